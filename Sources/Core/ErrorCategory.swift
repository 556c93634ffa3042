/// What kind of failure an error is, in words every module can use without knowing about HTTP.
///
/// Each module owns its error enum and says, per case, which category it falls in and which
/// stable machine `code` clients see; `APIError(_:)` turns the category into a status once, in the server.
///
/// ```swift
/// extension ParseError: CategorizedError {
///     public var category: ErrorCategory { .invalidInput }
///     public var code: String { "bad_syntax" }
/// }
/// ```
public enum ErrorCategory: String, Sendable, Equatable, CaseIterable {
    /// The caller sent something malformed or out of range.
    case invalidInput
    /// The thing the caller named does not exist.
    case notFound
    /// The request clashes with the current state (exists already, in progress, different data).
    case conflict
    /// Well-formed, but cannot be processed (a broken model folder, too few groups, a diverged run).
    case unprocessable
    /// The input is larger than allowed.
    case tooLarge
    /// The input comes in a format that is not supported.
    case unsupportedFormat
    /// A temporary condition; retrying later may succeed.
    case unavailable
    /// The server's disk is full: nothing more can be stored until space is freed (507).
    case storageFull
    /// A fault on our side (I/O, a corrupt file we wrote, a broken invariant).
    case internalFailure

    /// True when the caller can fix the request (every category but `unavailable`, `storageFull` and `internalFailure`).
    public var isCallerFault: Bool { self != .unavailable && self != .storageFull && self != .internalFailure }
}

/// An error that knows its `ErrorCategory` and a stable machine `code` (snake_case, documented in
/// `openapi/openapi.yaml`); its `description` is the human message clients see.
///
/// ```swift
/// do { try store.upsertVectors(space: "s", batch) }
/// catch let e as any CategorizedError { print(e.category, e.code, e) }  // invalidInput wrong_dimension …
/// ```
public protocol CategorizedError: Error, CustomStringConvertible {
    var category: ErrorCategory { get }
    var code: String { get }
    /// What a client is told. Defaults to `description` for the caller's faults and temporary
    /// conditions, and to a generic sentence for faults on our side (storage, internal), whose
    /// detail goes to the server log only.
    var clientMessage: String { get }
}

extension CategorizedError {
    public var clientMessage: String {
        switch category {
        case .internalFailure, .storageFull: APIError.genericMessage(category)
        default: description
        }
    }
}
