import Analysis
import Core

/// Small checked readers of job params; every failure is a 400 naming the field.
enum Params {
    static func bad(_ message: String) -> APIError { APIError.badRequest(message, code: "invalid_parameter") }

    static func object(_ p: JSONValue, _ job: String) throws -> [String: JSONValue] {
        guard let o = p.objectValue else { throw bad("\(job) params must be a JSON object") }
        return o
    }

    static func string(_ p: JSONValue, _ key: String, required job: String) throws -> String {
        guard let v = p[key] else { throw bad("\(job) needs '\(key)'") }
        guard let s = v.stringValue, !s.isEmpty else { throw bad("'\(key)' must be a non-empty string") }
        return s
    }

    static func optionalString(_ p: JSONValue, _ key: String) throws -> String? {
        guard let v = p[key], v != .null else { return nil }
        guard let s = v.stringValue, !s.isEmpty else { throw bad("'\(key)' must be a non-empty string") }
        return s
    }

    static func int(_ p: JSONValue, _ key: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let v = p[key], v != .null else { return value }
        guard case .number = v, let n = v.intValue, range.contains(n) else {
            throw bad("'\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound), got \(v.jsonString())")
        }
        return n
    }

    static func optionalInt(_ p: JSONValue, _ key: String, range: ClosedRange<Int>) throws -> Int? {
        guard let v = p[key], v != .null else { return nil }
        return try int(p, key, default: 0, range: range)
    }

    static func seed(_ p: JSONValue) throws -> UInt64 {
        UInt64(try int(p, "seed", default: 0, range: 0...(1 << 53)))
    }

    static func choice(_ p: JSONValue, _ key: String, default value: String, among: [String]) throws -> String {
        guard let v = p[key], v != .null else { return value }
        guard let s = v.stringValue, among.contains(s) else {
            throw bad("'\(key)' must be one of \(among.map { "\"\($0)\"" }.joined(separator: ", ")), got \(v.jsonString())")
        }
        return s
    }

    static func positiveNumber(_ p: JSONValue, _ key: String, default value: Double) throws -> Double {
        guard let v = p[key], v != .null else { return value }
        guard case .number(let x) = v, x.isFinite, x > 0 else { throw bad("'\(key)' must be a positive number, got \(v.jsonString())") }
        return x
    }

    /// The ridge alpha grid: 1…100 positive finite numbers (default `Probe.defaultAlphas`).
    static func alphas(_ p: JSONValue) throws -> [Double] {
        guard let v = p["alphas"], v != .null else { return Probe.defaultAlphas }
        guard let items = v.arrayValue, (1...100).contains(items.count) else {
            throw bad("'alphas' must be a list of 1 to 100 positive numbers")
        }
        return try items.map { item in
            guard case .number(let x) = item, x.isFinite, x > 0 else { throw bad("alpha \(item.jsonString()) is not a positive number") }
            return x
        }
    }

    /// A space name given for a job that needs one vector per function.
    static func meanSpace(_ p: JSONValue, job: String) throws -> String {
        let space = try string(p, "space", required: job)
        if space.hasSuffix("_tokens") {
            throw bad("space '\(space)' holds token matrices; \(job) needs one vector per function (a *_mean space, e.g. \(space.dropLast("_tokens".count))_mean)")
        }
        return space
    }

    /// Rejects keys a job does not know (a typo would otherwise be silently ignored).
    static func onlyKnown(_ p: JSONValue, _ keys: Set<String>, job: String) throws {
        let unknown = try object(p, job).keys.filter { !keys.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw bad("\(job) does not know \(unknown.map { "'\($0)'" }.joined(separator: ", ")); it takes \(keys.sorted().joined(separator: ", "))")
        }
    }
}
