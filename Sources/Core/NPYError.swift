/// What the `.npy` / `.npz` codecs throw for a body they cannot read.
///
/// ```swift
/// do { _ = try NPYArray(data: Data("garbage".utf8)) }
/// catch let e as NPYError { print(e.code, e) }  // bad_npy body is not a .npy file …
/// ```
public enum NPYError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a readable `.npy` (magic, header, shape, byte count, or the wrong kind of values).
    case badNPY(String)
    /// Not a readable `.npz` (not a ZIP, truncated, bad headers).
    case badNPZ(String)
    /// Readable, but in a form the codecs do not take (a dtype, compressed members).
    case unsupported(String)

    public var description: String {
        switch self {
        case .badNPY(let m), .badNPZ(let m), .unsupported(let m): m
        }
    }
}

extension NPYError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .badNPY, .badNPZ: .invalidInput
        case .unsupported: .unsupportedFormat
        }
    }

    public var code: String {
        switch self {
        case .badNPY: "bad_npy"
        case .badNPZ: "bad_npz"
        case .unsupported: "unsupported_media_type"
        }
    }
}
