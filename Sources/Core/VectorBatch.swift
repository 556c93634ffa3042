/// Vectors for a list of ids, row-major: `values` holds the rows of all ids back to back;
/// `rows[i]` is 1 for one-vector-per-id data (index input, `*_mean` spaces) and the token count
/// for `*_tokens` spaces. `truncated` (optional) flags ids whose text was cut to fit the model.
///
///     let b = VectorBatch(ids: [7, 9], values: [1, 0, 0, 1])   // two 2-d vectors
///     b.rows                                                  // [1, 1]
///     let t = VectorBatch(ids: [7], rows: [3], values: Array(repeating: 0, count: 3 * 384))
public struct VectorBatch: Sendable, Equatable {
    public var ids: [Int64]
    public var rows: [Int]
    public var values: [Float]
    public var truncated: [Bool]?

    public init(ids: [Int64], rows: [Int], values: [Float], truncated: [Bool]? = nil) {
        self.ids = ids; self.rows = rows; self.values = values; self.truncated = truncated
    }

    /// One vector per id, `values.count == ids.count * dim`.
    public init(ids: [Int64], values: [Float]) {
        self.init(ids: ids, rows: [Int](repeating: 1, count: ids.count), values: values)
    }
}
