import Core
import FlyingFox
import Foundation

/// JSON in and out, with decoding errors turned into 400s that name the field.
public enum JSONCodec {
    /// `nonNull`: the body's fields (at any depth) that the spec does not document as nullable: an
    /// explicit `null` there is a 400 (`JSONNulls`). `opaque`: keys holding free-form JSON, not looked into.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String = "body",
                                            nonNull: Set<String> = [], opaque: Set<String> = []) throws -> T {
        if data.isEmpty { throw APIError.badRequest("request \(what) is empty; expected JSON", code: "invalid_json") }
        try JSONNulls.check(data, nonNull: nonNull, opaque: opaque)
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

/// The API's rule for `null`: a field that is not documented as nullable may be left out (for its
/// default) but not sent as `null` — a null there is a client mistake, not a choice. Each route names
/// its body's non-nullable fields (`nonNull`, matched by key at any depth); a `null` member under one
/// of them is a 400 `invalid_json` naming the field. Keys the body does not define are not looked at
/// (they are ignored, whatever their value), nor is anything under a key in `opaque` (free-form JSON
/// such as a function's `properties`).
///
///     try JSONNulls.check(Data(#"{"k": null}"#.utf8), nonNull: ["k"])   // throws: "'k' must not be null …"
public enum JSONNulls {
    public static func check(_ data: Data, nonNull: Set<String>, opaque: Set<String> = []) throws {
        // Fast path: a body without the bytes `null` holds no null (large vector uploads skip the walk).
        guard !nonNull.isEmpty, data.range(of: Data("null".utf8)) != nil else { return }
        guard let root = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return }
        try walk(root, path: "", nonNull: nonNull, opaque: opaque)
    }

    private static func walk(_ value: Any, path: String, nonNull: Set<String>, opaque: Set<String>) throws {
        if let object = value as? [String: Any] {
            for key in object.keys.sorted() where nonNull.contains(key) && !opaque.contains(key) {
                guard let member = object[key] else { continue }
                let at = path.isEmpty ? key : "\(path).\(key)"
                if member is NSNull {
                    throw APIError.badRequest("'\(at)' must not be null (leave it out for its default)", code: "invalid_json")
                }
                try walk(member, path: at, nonNull: nonNull, opaque: opaque)
            }
        } else if let array = value as? [Any] {
            for (i, item) in array.enumerated() where !(item is NSNull) {
                try walk(item, path: "\(path)[\(i)]", nonNull: nonNull, opaque: opaque)
            }
        }
    }
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
