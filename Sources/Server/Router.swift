import Core
import FlyingFox
import Foundation

/// A request after routing: path parameters, query, headers and the (size-checked) body.
public struct RequestContext: Sendable {
    public var request: HTTPRequest
    public var route: String
    public var params: [String: String]
    public var body: Data

    public func query(_ name: String) -> String? {
        request.query.first { $0.name == name }?.value
    }

    public func header(_ name: String) -> String? { request.headers[HTTPHeader(name)] }

    /// A path parameter (percent-decoded).
    public func param(_ name: String) -> String { params[name] ?? "" }

    /// An integer query parameter within `range`, or a 400 naming it.
    public func intQuery(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = query(name), !text.isEmpty else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw APIError.badRequest("query parameter '\(name)' must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'", code: "invalid_parameter")
        }
        return n
    }

    /// An integer path parameter, or a 400.
    public func int64Param(_ name: String) throws -> Int64 {
        guard let n = Int64(param(name)), n > 0 else {
            throw APIError.badRequest("'\(param(name))' is not a valid \(name)", code: "invalid_parameter")
        }
        return n
    }

    /// True when the client asked for numpy (`Accept: application/x-npy` or `?format=npy`).
    public func wants(_ mediaType: String, format: String) -> Bool {
        if query("format") == format { return true }
        return (header("Accept") ?? "").contains(mediaType)
    }

    /// The media type of the body. curl's `-d` sends form encoding by default: a form-typed body that
    /// is plainly JSON counts as JSON.
    public var contentType: String {
        let type = (header("Content-Type") ?? "application/json").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? "application/json"
        if type == "application/x-www-form-urlencoded",
           let first = body.first(where: { !$0.isWhitespace }), first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            return "application/json"
        }
        return type
    }
}

public typealias RouteHandler = @Sendable (RequestContext) async throws -> HTTPResponse

/// One route: a method and a template like `/v1/spaces/{name}/vectors`.
///
/// With `rest: true` the template's last `{parameter}` takes the rest of the path, one segment or
/// more, slashes included (`/dashboard/{path}` matches `/dashboard/js/api.js` with `path` =
/// `js/api.js`); the template is still the one OpenAPI documents.
///
/// ```swift
/// Route("GET", "/dashboard/{path}", rest: true) { req in … req.param("path") … }
/// ```
public struct Route: Sendable {
    public var method: String
    public var template: String
    /// The last parameter takes the remaining segments.
    public var rest: Bool
    let segments: [Substring]
    let handler: RouteHandler

    public init(_ method: String, _ template: String, rest: Bool = false, _ handler: @escaping RouteHandler) {
        self.method = method
        self.template = template
        self.rest = rest
        self.segments = template.split(separator: "/")
        self.handler = handler
    }

    func match(_ parts: [Substring]) -> [String: String]? {
        var parts = parts
        if rest, let last = segments.last, last.first == "{" && last.last == "}" {
            guard parts.count >= segments.count else { return nil }
            let tail = parts[(segments.count - 1)...].joined(separator: "/")
            parts = Array(parts[..<(segments.count - 1)]) + [Substring(tail)]
        }
        guard parts.count == segments.count else { return nil }
        var params = [String: String]()
        for (s, p) in zip(segments, parts) {
            if s.first == "{" && s.last == "}" {
                params[String(s.dropFirst().dropLast())] = String(p).removingPercentEncoding ?? String(p)
            } else if s != p {
                return nil
            }
        }
        return params
    }
}

/// A route table; `match` returns the route and its parameters, or tells 404 from 405.
public struct Router: Sendable {
    public private(set) var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: String, _ template: String, rest: Bool = false, _ handler: @escaping RouteHandler) {
        routes.append(Route(method, template, rest: rest, handler))
    }

    public enum Match {
        case found(Route, [String: String])
        case methodNotAllowed([String])
        case notFound
    }

    /// The routes whose templates match `path` with the most literal segments decide: a literal
    /// segment wins over a parameter (`/v1/jobs/claim` is POST only, though `/v1/jobs/{id}` has GET),
    /// so neither the handler nor `Allow` of a less specific template answers for it.
    public func match(method: String, path: String) -> Match {
        let parts = path.split(separator: "/")
        var best = -1
        var candidates = [(Route, [String: String])]()
        for r in routes {
            guard let params = r.match(parts) else { continue }
            let literal = r.literalSegments
            if literal > best { best = literal; candidates = [] }
            if literal == best { candidates.append((r, params)) }
        }
        if let hit = candidates.first(where: { $0.0.method == method }) { return .found(hit.0, hit.1) }
        return candidates.isEmpty ? .notFound : .methodNotAllowed(candidates.map(\.0.method))
    }
}

extension Route {
    /// Segments of the template that are not `{parameters}`.
    var literalSegments: Int { segments.filter { !($0.first == "{" && $0.last == "}") }.count }
}
