import Core
import FlyingFox
import Foundation

/// JSON in and out, with decoding errors turned into 400s that name the field.
public enum JSONCodec {
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String = "body") throws -> T {
        if data.isEmpty { throw APIError.badRequest("request \(what) is empty; expected JSON", code: "invalid_json") }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError.badRequest(describe(error), code: "invalid_json")
        } catch let error as APIError {
            throw error
        } catch let error as any CategorizedError {
            throw error
        } catch {
            throw APIError.badRequest("malformed JSON: \(error.localizedDescription)", code: "invalid_json")
        }
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
        return out.isEmpty ? "body" : out
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let ctx):
            let at = path(ctx.codingPath)
            return "\(at == "body" ? "" : at + ": ")missing field '\(key.stringValue)'"
        case .typeMismatch(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(typeName(type)), got null"
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty { return "malformed JSON: \(ctx.debugDescription)" }
            return "\(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default:
            return "malformed JSON"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        if type is String.Type { return "a string" }
        if type is Int.Type || type is Int64.Type { return "an integer" }
        if type is Double.Type || type is Float.Type { return "a number" }
        if type is Bool.Type { return "a boolean" }
        let t = "\(type)"
        return t.hasPrefix("Array") ? "an array" : t.hasPrefix("Dictionary") ? "an object" : t
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()
}

public extension HTTPResponse {
    /// A JSON response.
    static func json<T: Encodable>(_ value: T, status: HTTPStatusCode = .ok) throws -> HTTPResponse {
        HTTPResponse(statusCode: status, headers: [.contentType: "application/json"], body: try JSONCodec.encoder.encode(value))
    }

    /// `{"error":{"code":…,"message":…}}` with the error's status.
    static func error(_ e: APIError) -> HTTPResponse {
        let body = (try? JSONCodec.encoder.encode(["error": ["code": e.code, "message": e.message]])) ?? Data()
        return HTTPResponse(statusCode: HTTPStatusCode(e.status, phrase: phrase(e.status)),
                            headers: [.contentType: "application/json"], body: body)
    }

    static func npy(_ array: NPYArray) -> HTTPResponse {
        HTTPResponse(statusCode: .ok, headers: [.contentType: "application/x-npy"], body: array.encoded())
    }

    static func npz(_ arrays: [String: NPYArray]) throws -> HTTPResponse {
        HTTPResponse(statusCode: .ok, headers: [.contentType: "application/x-npz"], body: try NPZ.encode(arrays))
    }

    static func phrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 503: "Service Unavailable"
        case 507: "Insufficient Storage"
        default: "Internal Server Error"
        }
    }
}
