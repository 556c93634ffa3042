import Core
import Foundation

extension Array where Element == Float {
    /// Rows of an n×d matrix.
    func rows(_ rows: [Int], dims d: Int) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(rows.count * d)
        for r in rows { out.append(contentsOf: self[(r * d)..<((r + 1) * d)]) }
        return out
    }

    /// Rows of an n×d matrix, as Double.
    func rowsAsDouble(_ rows: [Int], dims d: Int) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(rows.count * d)
        for r in rows { for j in 0..<d { out.append(Double(self[r * d + j])) } }
        return out
    }
}

extension JSONValue {
    /// Adds (or replaces) keys of an object value.
    func merging(_ extra: [String: JSONValue]) -> JSONValue {
        guard case .object(var o) = self else { return self }
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }
}

/// Cancel from inside compute closures: the Analysis progress callbacks throw this.
func cancelCheck(_ ctx: JobContext) throws { if ctx.isCancelled { throw JobCancelled() } }
