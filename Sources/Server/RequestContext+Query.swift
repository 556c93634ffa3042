import Core

extension RequestContext {
    /// An optional integer query parameter: nil when absent or empty, a 400 naming it when present
    /// but not an integer in `range` (never silently ignored: `?after=abc` is a mistake, not "no filter").
    ///
    /// ```swift
    /// let after = try req.optionalInt64Query("after")   // nil, or the value; 400 for "x" or 2^63
    /// ```
    public func optionalInt64Query(_ name: String, range: ClosedRange<Int64> = Int64.min...Int64.max) throws -> Int64? {
        guard let text = query(name), !text.isEmpty else { return nil }
        guard let n = Int64(text), range.contains(n) else {
            throw APIError.badRequest("query parameter '\(name)' must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'",
                                      code: "invalid_parameter")
        }
        return n
    }
}
