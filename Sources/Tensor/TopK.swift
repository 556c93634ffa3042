/// Exact brute-force k-nearest neighbours by inner product: queries are scored against the whole
/// database in chunks (one sgemm per chunk) and each query keeps its k best rows, best first,
/// ties to the lower row index (what FAISS `IndexFlatIP` returns).
///
/// ```swift
/// let top = TopK.search(queries: q, database: db, dim: 384, k: 10) { query, row in query == row }
/// let best = top.row(0)                     // row ids of query 0, best first
/// ```
public struct TopK: Sendable, Equatable {
    public let count: Int
    public let k: Int
    /// `ids[i*k + r]`: r-th best row of query i, −1 when fewer than k rows were eligible.
    public var ids: [Int]
    /// Matching scores, −∞ where `ids` is −1.
    public var scores: [Float]

    /// The row ids of query i, best first (padding removed).
    public func row(_ i: Int) -> [Int] { Array(ids[(i * k)..<((i + 1) * k)].prefix { $0 >= 0 }) }

    /// Top-k database rows per query, leaving out rows for which `skip(query, row)`.
    /// Sizes must agree: `queries.count` and `database.count` multiples of `dim`, `k` ≥ 0.
    public static func search(queries: [Float], database: [Float], dim: Int, k: Int, chunk: Int = 256,
                              skip: (Int, Int) -> Bool = { _, _ in false }) -> TopK {
        let q = queries.count / max(dim, 1), n = database.count / max(dim, 1)
        precondition(dim >= 1 && k >= 0 && chunk >= 1 && queries.count == q * dim && database.count == n * dim,
                     "TopK.search: sizes do not agree with dim \(dim)")
        var ids = [Int](repeating: -1, count: q * k)
        var scores = [Float](repeating: -.infinity, count: q * k)
        if k == 0 { return TopK(count: q, k: k, ids: ids, scores: scores) }
        ids.withUnsafeMutableBufferPointer { pid in
            scores.withUnsafeMutableBufferPointer { psc in
                forEachScoreRow(queries: queries, database: database, dim: dim, chunk: chunk) { i, row in
                    let id = pid.baseAddress! + i * k, sc = psc.baseAddress! + i * k
                    var filled = 0
                    for j in 0..<n {
                        let s = row[j]
                        if filled == k && !(s > sc[k - 1]) { continue }
                        if skip(i, j) { continue }
                        var pos = filled == k ? k - 1 : filled
                        if filled < k { filled += 1 }
                        while pos > 0 && s > sc[pos - 1] {
                            sc[pos] = sc[pos - 1]; id[pos] = id[pos - 1]
                            pos -= 1
                        }
                        sc[pos] = s; id[pos] = j
                    }
                }
            }
        }
        return TopK(count: q, k: k, ids: ids, scores: scores)
    }

    /// Scores every query against the whole database in chunks of `chunk` queries (one sgemm
    /// each) and hands query i's row of n inner products to `body(i, row)`, in query order.
    public static func forEachScoreRow(queries: [Float], database: [Float], dim: Int, chunk: Int,
                                       _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let q = queries.count / max(dim, 1), n = database.count / max(dim, 1)
        precondition(chunk >= 1, "forEachScoreRow: chunk must be ≥ 1")
        var scores = [Float](repeating: 0, count: min(chunk, max(q, 1)) * max(n, 1))
        queries.withUnsafeBufferPointer { qp in
            database.withUnsafeBufferPointer { dp in
                scores.withUnsafeMutableBufferPointer { sp in
                    var start = 0
                    while start < q {
                        let m = min(chunk, q - start)
                        Float.gemm(transA: false, transB: true, m: m, n: n, k: dim, alpha: 1,
                                   a: qp.baseAddress! + start * dim, lda: dim, b: dp.baseAddress!, ldb: dim,
                                   beta: 0, c: sp.baseAddress!, ldc: n)
                        for r in 0..<m { body(start + r, sp.baseAddress! + r * n) }
                        start += m
                    }
                }
            }
        }
    }
}
