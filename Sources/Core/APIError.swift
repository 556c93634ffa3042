/// A client-facing error: an HTTP status, a stable machine code and a human message.
///
/// The application and server layers may throw `APIError` directly; the modules below them throw
/// their own `CategorizedError`s, and the server turns any thrown error into an `APIError` once,
/// with `APIError(_:)`, to answer `{"error":{"code":…,"message":…}}` — a 4xx for a client's mistake.
///
/// ```swift
/// throw APIError.badRequest("vectors[3] has 12 values, space 'x' has dim 384", code: "wrong_dimension")
/// let e = APIError(SomeModuleError.unknownThing("x"))   // status from its category, its code and description
/// ```
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    public static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(status: 400, code: code, message: message)
    }
    public static func notFound(_ message: String, code: String = "not_found") -> APIError {
        APIError(status: 404, code: code, message: message)
    }
    public static func conflict(_ message: String, code: String = "conflict") -> APIError {
        APIError(status: 409, code: code, message: message)
    }
    public static func unprocessable(_ message: String, code: String = "invalid") -> APIError {
        APIError(status: 422, code: code, message: message)
    }
    public static func tooLarge(_ message: String) -> APIError {
        APIError(status: 413, code: "payload_too_large", message: message)
    }
    public static func unsupportedMediaType(_ message: String) -> APIError {
        APIError(status: 415, code: "unsupported_media_type", message: message)
    }
    public static func unauthorized(_ message: String) -> APIError {
        APIError(status: 401, code: "unauthorized", message: message)
    }
    public static func internalError(_ message: String) -> APIError {
        APIError(status: 500, code: "internal", message: message)
    }
}

extension APIError {
    /// The one mapping from a thrown error to a client-facing one: an `APIError` stays itself, a
    /// `CategorizedError` gets the status of its category with its code and `clientMessage`, a
    /// `CancellationError` is a 503 `cancelled`, anything else a 500 `internal` with a generic
    /// message (the detail belongs in the server log, never in an answer).
    ///
    /// ```swift
    /// APIError(APIError.notFound("no job 7", code: "unknown_job")).status   // 404
    /// APIError(CocoaError(.fileNoSuchFile)).code                           // "internal"
    /// ```
    public init(_ error: any Error) {
        switch error {
        case let e as APIError:
            self = e
        case let e as any CategorizedError:
            self.init(status: Self.status(of: e.category), code: e.code, message: e.clientMessage)
        case is CancellationError:
            self.init(status: 503, code: "cancelled", message: "the request was cancelled (server stopping or timeout)")
        default:
            self = .internalError(Self.genericMessage(.internalFailure))
        }
    }

    /// Same as `APIError(error)`.
    public static func from(_ error: any Error) -> APIError { APIError(error) }

    /// The HTTP status a category answers with.
    public static func status(of category: ErrorCategory) -> Int {
        switch category {
        case .invalidInput: 400
        case .notFound: 404
        case .conflict: 409
        case .unprocessable: 422
        case .tooLarge: 413
        case .unsupportedFormat: 415
        case .unavailable: 503
        case .storageFull: 507
        case .internalFailure: 500
        }
    }

    /// What clients are told for a fault on our side of a category (the detail is logged).
    public static func genericMessage(_ category: ErrorCategory) -> String {
        switch category {
        case .storageFull: "the server's storage is full; the request was not stored (details are in the server log)"
        case .unavailable: "the store is unavailable or busy; retry later (details are in the server log)"
        default: "internal error (details are in the server log)"
        }
    }
}
