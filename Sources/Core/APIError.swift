/// A client-facing error: an HTTP status, a stable machine code and a human message.
///
/// Every layer throws `APIError` (or an error mapped to one in `Server`) for bad input, so the
/// server answers `{"error":{"code":…,"message":…}}` with a 4xx and never a 500 for a client's mistake.
///
/// ```swift
/// throw APIError.badRequest("vectors[3] has 12 values, space 'x' has dim 384", code: "wrong_dimension")
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
