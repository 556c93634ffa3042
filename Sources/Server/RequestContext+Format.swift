import Core
import Foundation

extension RequestContext {
    /// Checks `?format=` against the formats a route answers in (a 400 `invalid_format` naming
    /// them otherwise) and returns it; nil when absent, so `Accept` decides.
    ///
    /// ```swift
    /// try req.checkFormat(["json", "npy", "npz"])    // ?format=AAA → 400
    /// ```
    @discardableResult
    func checkFormat(_ allowed: [String]) throws -> String? {
        guard let f = query("format") else { return nil }
        guard allowed.contains(f) else {
            throw APIError.badRequest("format must be one of \(allowed.joined(separator: ", ")), got '\(f)'", code: "invalid_format")
        }
        return f
    }
}

extension APIServer {
    /// Most ids one `?ids=` list may hold (after which it is refused with 400 `too_many_ids`).
    public static let maxListedIDs = 10_000

    /// An `?ids=` list for a read: at most `maxListedIDs` entries, repeated ids kept once in
    /// first-seen order (nil when absent).
    static func readIDs(_ req: RequestContext) throws -> [Int64]? {
        guard let ids = try VectorBody.idList(req.query("ids"), required: false) else { return nil }
        guard ids.count <= maxListedIDs else {
            throw APIError.badRequest("ids holds \(ids.count) entries; at most \(maxListedIDs) per request", code: "too_many_ids")
        }
        var seen = Set<Int64>()
        return ids.filter { seen.insert($0).inserted }
    }
}
