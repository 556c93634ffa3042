import Core
import Foundation
import Services

/// A job type's parameters: decoded from the submitted JSON object (snake_case keys) once at
/// submission, checked by `validate()`, and decoded again from the stored JSON when a worker claims
/// the job, so `run` receives them typed.
///
/// ```swift
/// struct EchoParams: JobParams {
///     var times: Int
///     static let knownKeys: Set<String>? = ["times"]      // nil: unknown keys are ignored
///     func validate() throws { try JobParamsCheck.range("times", times, 1...10) }
/// }
/// let p = try EchoParams.decode(["times": 3], job: "echo")   // a 400 naming the field otherwise
/// ```
public protocol JobParams: Decodable, Sendable {
    /// Keys the job takes; others are refused with a 400 (nil: others are ignored).
    static var knownKeys: Set<String>? { get }
    /// Ranges, files and combinations the types cannot say; throws a 400 naming the field.
    func validate() throws
}

extension JobParams {
    public static var knownKeys: Set<String>? { nil }
    public func validate() throws {}

    /// Decodes and validates `json`: wrong types, missing fields, unknown keys and an explicit `null`
    /// (no param is nullable: leave it out for its default — the API's rule) become a 400
    /// `invalid_parameter` naming the field; `validate()` throws what it throws.
    public static func decode(_ json: JSONValue, job: String) throws -> Self {
        guard let object = json.objectValue else { throw JobParamsCheck.bad("\(job) params must be a JSON object") }
        if let key = object.keys.sorted().first(where: { object[$0] == .null }) {
            throw JobParamsCheck.bad("'\(key)' must not be null (leave it out for its default)")
        }
        if let known = knownKeys {
            let unknown = object.keys.filter { !known.contains($0) }.sorted()
            if !unknown.isEmpty {
                throw JobParamsCheck.bad("\(job) does not know \(unknown.map { "'\($0)'" }.joined(separator: ", ")); it takes \(known.sorted().joined(separator: ", "))")
            }
        }
        let p: Self
        do {
            p = try Self(from: JSONValueDecoder(json))
        } catch let e as DecodingError {
            throw JobParamsCheck.bad(JobParamsCheck.message(e, job: job))
        }
        try p.validate()
        return p
    }
}

/// Parameters of a job type that takes none it needs to read (unknown keys ignored).
public struct NoParams: JobParams, Equatable {}

/// Checked ranges for `JobParams.validate()`: every failure is a 400 `invalid_parameter` naming the field.
public enum JobParamsCheck {
    public static func bad(_ message: String) -> APIError { APIError.badRequest(message, code: "invalid_parameter") }

    /// `value` (when present) lies in `range`.
    public static func range<T: Comparable>(_ key: String, _ value: T?, _ range: ClosedRange<T>) throws {
        guard let value, !range.contains(value) else { return }
        throw bad("'\(key)' must be in \(text(range.lowerBound))...\(text(range.upperBound)), got \(text(value))")
    }

    /// `value` (when present) is at least `min`.
    public static func atLeast<T: Comparable>(_ key: String, _ value: T?, _ min: T) throws {
        guard let value, value < min else { return }
        throw bad("'\(key)' must be ≥ \(text(min)), got \(text(value))")
    }

    /// Whole numbers without a trailing `.0`.
    private static func text<T>(_ v: T) -> String {
        if let d = v as? Double, d.rounded() == d, abs(d) < 1e15 { return String(Int64(d)) }
        return "\(v)"
    }

    /// `value` (when present) is a positive finite number.
    public static func positive(_ key: String, _ value: Double?) throws {
        guard let value, !(value.isFinite && value > 0) else { return }
        throw bad("'\(key)' must be a positive number, got \(text(value))")
    }

    /// `value` (when present) names a model folder (`ModelCache.isValidName`), not a path: a 400
    /// `invalid_model` that does not say whether such a path exists.
    public static func modelName(_ key: String, _ value: String?) throws {
        guard let value, !ModelCache.isValidName(value) else { return }
        throw APIError.badRequest("'\(key)' must be the name of a folder in the server's models directory, not a path", code: "invalid_model")
    }

    /// `value` (when present) is not empty.
    public static func nonEmpty(_ key: String, _ value: String?) throws {
        if let value, isBlank(value) { throw bad("'\(key)' must be a non-empty string") }
    }

    /// Empty or only spaces, tabs and line breaks (the spec's pattern `[^ \t\n\r]` for a non-blank string).
    public static func isBlank(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }
    }

    /// A space name as spaces are named (the spec's `SpaceNameString`: 1 to 200 of `A-Za-z0-9._@:-`).
    public static func spaceName(_ key: String, _ value: String?) throws {
        guard let value else { return }
        let ok = (1...200).contains(value.utf8.count) && value.utf8.allSatisfy { c in
            (0x30...0x39).contains(c) || (0x41...0x5a).contains(c) || (0x61...0x7a).contains(c) || ".-_@:".utf8.contains(c)
        }
        if !ok { throw bad("'\(key)' must be a space name (1 to 200 of A-Z a-z 0-9 . _ @ : -), got \"\(value.prefix(100))\"") }
    }

    /// Seeds are whole numbers a JSON number carries exactly: 0...2⁵³−1.
    public static let seedRange: ClosedRange<UInt64> = 0...((1 << 53) - 1)

    /// The message of a decoding failure, naming the field (`'alphas[1]' must be a number, got "x"`).
    static func message(_ error: DecodingError, job: String) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce(into: "") { out, k in
                if let i = k.intValue, k.stringValue.hasPrefix("Index") || Int(k.stringValue) == i { out += "[\(i)]" }
                else { out += out.isEmpty ? k.stringValue : ".\(k.stringValue)" }
            }
        }
        switch error {
        case .keyNotFound(let key, let c): return "\(job) needs '\(path(c.codingPath + [key]))'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "\(job) params: \(c.debugDescription)" : "'\(path(c.codingPath))' \(c.debugDescription)"
        @unknown default: return "\(job) params: \(error)"
        }
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or `value` when the key is absent or null.
    func value<V: Decodable>(_ key: K, default value: V) throws -> V { try decodeIfPresent(V.self, forKey: key) ?? value }

    /// A string that must not be empty (or only spaces) when present.
    func nonEmptyString(_ key: K) throws -> String? {
        guard let s = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard !JobParamsCheck.isBlank(s) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "must be a non-empty string")
        }
        return s
    }

    /// A required non-empty string.
    func requiredString(_ key: K) throws -> String {
        guard contains(key), try !decodeNil(forKey: key) else {
            throw DecodingError.keyNotFound(key, DecodingError.Context(codingPath: codingPath, debugDescription: "missing"))
        }
        return try nonEmptyString(key)!
    }

    /// One of the raw values of `E` (the message lists them).
    func choice<E: RawRepresentable & CaseIterable>(_ key: K, default value: E) throws -> E where E.RawValue == String {
        guard let s = try decodeIfPresent(String.self, forKey: key) else { return value }
        guard let v = E(rawValue: s) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription:
                "must be one of \(E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(s)\"")
        }
        return v
    }
}
