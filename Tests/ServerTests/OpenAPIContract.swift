import Core
import Foundation
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// openapi/openapi.yaml as a contract that every HTTP exchange of the route tests is held to.
///
/// `violations(of:)` takes one real request and the server's real answer and lists where they leave
/// the spec:
/// - the path must match a documented template (else the answer must be `404` with an `Error` body),
///   and the method must be documented for it (else `405` with an `Error` body);
/// - every query parameter sent must be declared for the operation, every `X-…` header too; when the
///   server accepted the request (2xx), the path and query values must fit their schemas, required
///   ones must be there, and a body must have a documented content type and, if JSON, fit the
///   `requestBody` schema;
/// - the status must be documented (exactly, as `4XX`, or `default`), the response `Content-Type`
///   must be one documented for it (no body where none is documented), and a JSON body must fit
///   that status's schema. Binary, text, HTML and event-stream bodies are checked by type only.
struct OpenAPIContract: Sendable {
    struct Parameter: Sendable {
        var name: String
        var location: String
        var required: Bool
        var schema: JSONValue
    }

    struct Operation: Sendable {
        var method: String
        var template: String
        var operationId: String?
        var parameters: [Parameter]
        var requestBody: JSONValue?
        var responses: [String: JSONValue]
        var key: String { "\(method) \(template)" }
    }

    /// One request as sent and the answer as received (header names lowercased).
    struct Exchange {
        var method: String
        /// The percent-encoded path with its query string, as sent.
        var target: String
        var requestHeaders: [String: String] = [:]
        var requestBody: Data?
        var status: Int
        var responseHeaders: [String: String] = [:]
        var responseBody = Data()
    }

    struct LoadError: Error, CustomStringConvertible { var description: String }

    static let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    let document: JSONValue
    let operations: [Operation]
    let validator: SchemaValidator
    /// Structural defects: a `{param}` of a template that no path parameter declares, and the like.
    let problems: [String]

    init(yaml text: String) throws {
        let document = try JSONValue.yaml(text)
        let validator = SchemaValidator(document: document)
        guard let paths = document["paths"]?.objectValue else { throw LoadError(description: "no top-level 'paths' mapping") }
        func resolved(_ v: JSONValue?) -> JSONValue? {
            var v = v
            for _ in 0..<16 {
                guard let ref = v?["$ref"]?.stringValue else { return v }
                v = validator.resolve(ref: ref)
            }
            return nil
        }
        func parameters(_ list: JSONValue?, _ owner: String, _ problems: inout [String]) -> [Parameter] {
            (list?.arrayValue ?? []).compactMap { raw in
                guard let p = resolved(raw), let name = p["name"]?.stringValue, let location = p["in"]?.stringValue else {
                    problems.append("\(owner): a parameter without name/in, or an unresolvable $ref: \(SchemaValidator.short(raw))")
                    return nil
                }
                return Parameter(name: name, location: location, required: p["required"]?.boolValue ?? false, schema: p["schema"] ?? .bool(true))
            }
        }
        var operations = [Operation]()
        var problems = [String]()
        for template in paths.keys.sorted() {
            guard template.hasPrefix("/"), let item = paths[template]?.objectValue else {
                problems.append("paths key '\(template)' is not a path item")
                continue
            }
            for key in item.keys where !Self.methods.contains(key) && !["parameters", "summary", "description", "servers"].contains(key) {
                problems.append("'\(key)' under \(template) is not an HTTP method")
            }
            let shared = parameters(item["parameters"], template, &problems)
            for method in Self.methods {
                guard let op = item[method] else { continue }
                let key = "\(method.uppercased()) \(template)"
                var params = shared
                for p in parameters(op["parameters"], key, &problems) {
                    params.removeAll { $0.name == p.name && $0.location == p.location }
                    params.append(p)
                }
                let templateNames = Self.segments(template).filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
                for name in templateNames where !params.contains(where: { $0.location == "path" && $0.name == name }) {
                    problems.append("\(key): path parameter '\(name)' is not declared")
                }
                var responses = [String: JSONValue]()
                for (status, r) in op["responses"]?.objectValue ?? [:] {
                    guard let r = resolved(r) else { problems.append("\(key): response \(status) does not resolve"); continue }
                    responses[status] = r
                }
                operations.append(Operation(method: method.uppercased(), template: template, operationId: op["operationId"]?.stringValue,
                                            parameters: params, requestBody: resolved(op["requestBody"]), responses: responses))
            }
        }
        self.document = document
        self.validator = validator
        self.operations = operations
        self.problems = problems
    }

    // MARK: Matching

    static func segments(_ path: String) -> [Substring] { path.split(separator: "/", omittingEmptySubsequences: false) }

    /// The documented template a concrete path matches (most literal segments wins) and its path values (still percent-encoded).
    func match(path: String) -> (template: String, values: [String: String])? {
        let parts = Self.segments(path)
        var best: (template: String, values: [String: String], literals: Int)?
        for template in Set(operations.map(\.template)) {
            let t = Self.segments(template)
            guard t.count == parts.count else { continue }
            var values = [String: String](), literals = 0, ok = true
            for (a, b) in zip(t, parts) {
                if a.hasPrefix("{") && a.hasSuffix("}") {
                    if b.isEmpty { ok = false; break }
                    values[String(a.dropFirst().dropLast())] = String(b)
                } else if a == b {
                    literals += 1
                } else {
                    ok = false
                    break
                }
            }
            if ok, literals > best?.literals ?? -1 { best = (template, values, literals) }
        }
        return best.map { ($0.template, $0.values) }
    }

    func operation(_ method: String, _ template: String) -> Operation? {
        operations.first { $0.method == method.uppercased() && $0.template == template }
    }

    /// The operation an exchange belongs to, if documented.
    func operation(for method: String, target: String) -> Operation? {
        let path = String(target.prefix { $0 != "?" })
        return match(path: path).flatMap { operation(method, $0.template) }
    }

    // MARK: Checking

    static func mediaType(_ header: String?) -> String? {
        guard let h = header?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased(), !h.isEmpty else { return nil }
        return h
    }

    /// The media type the server reads a request body as, by the rules of the spec's `info.description`:
    /// "Request bodies are JSON unless a route says otherwise" (no Content-Type is JSON), and a body
    /// sent as `application/x-www-form-urlencoded` (curl's default) that starts with `{` or `[` is JSON.
    static func requestMediaType(_ header: String?, _ body: Data) -> String? {
        guard let media = mediaType(header) else { return "application/json" }
        if media == "application/x-www-form-urlencoded",
           let first = body.first(where: { ![9, 10, 13, 32].contains($0) }), first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            return "application/json"
        }
        return media
    }

    static func isJSON(_ media: String) -> Bool { media == "application/json" || media.hasSuffix("+json") }

    static func decode(_ s: Substring) -> String {
        String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
    }

    /// A path or query string as the value its schema expects (a number or boolean when it parses as one).
    func typed(_ raw: String, _ schema: JSONValue) -> JSONValue {
        var s = schema
        if let ref = s["$ref"]?.stringValue, let target = validator.resolve(ref: ref) { s = target }
        let types = s["type"]?.arrayValue?.compactMap(\.stringValue) ?? s["type"]?.stringValue.map { [$0] } ?? []
        if types.contains(where: { $0 == "integer" || $0 == "number" }), let d = Double(raw) { return .number(d) }
        if types.contains("boolean"), raw == "true" || raw == "false" { return .bool(raw == "true") }
        return .string(raw)
    }

    func violations(of x: Exchange) -> [String] {
        let path = String(x.target.prefix { $0 != "?" })
        let query = x.target.firstIndex(of: "?").map { x.target[x.target.index(after: $0)...] } ?? ""
        guard let (template, pathValues) = match(path: path) else {
            var out = x.status == 404 ? [] : ["no documented path matches \(path); the answer must be 404 (no_route), got \(x.status)"]
            out += errorBody(x)
            return out
        }
        guard let op = operation(x.method, template) else {
            var out = x.status == 405 ? [] : ["\(template) documents no \(x.method); the answer must be 405 (method_not_allowed), got \(x.status)"]
            out += errorBody(x)
            return out
        }
        return requestViolations(op, pathValues: pathValues, query: query, x) + responseViolations(op, x)
    }

    /// Errors outside any operation (404 no_route, 405) still carry the `Error` body.
    private func errorBody(_ x: Exchange) -> [String] {
        guard Self.mediaType(x.responseHeaders["content-type"]) == "application/json",
              let json = JSONValue.parse(String(decoding: x.responseBody, as: UTF8.self)) else {
            return ["the error answer is not JSON (Content-Type \(x.responseHeaders["content-type"] ?? "none"))"]
        }
        return validator.validate(json, against: ["$ref": "#/components/schemas/Error"]).map { "error body \($0)" }
    }

    private func requestViolations(_ op: Operation, pathValues: [String: String], query: Substring, _ x: Exchange) -> [String] {
        var out = [String]()
        let accepted = (200..<300).contains(x.status)
        var sent = [String: String]()
        for item in query.split(separator: "&") where !item.isEmpty {
            let name = Self.decode(item.prefix { $0 != "=" })
            let value = item.firstIndex(of: "=").map { Self.decode(item[item.index(after: $0)...]) } ?? ""
            sent[name] = value
            if !op.parameters.contains(where: { $0.location == "query" && $0.name == name }) {
                out.append("query parameter '\(name)' is not declared (declared: \(op.parameters.filter { $0.location == "query" }.map(\.name).sorted()))")
            }
        }
        for (name, _) in x.requestHeaders where name.hasPrefix("x-") {
            if !op.parameters.contains(where: { $0.location == "header" && $0.name.lowercased() == name }) {
                out.append("header '\(name)' is not declared")
            }
        }
        guard accepted else { return out }  // bad input is the point of many 4xx tests: only its names are checked
        for p in op.parameters {
            let raw: String? = switch p.location {
            case "query": sent[p.name]
            case "path": pathValues[p.name].map { $0.removingPercentEncoding ?? $0 }
            default: nil
            }
            guard let raw else {
                if p.required, p.location != "header" { out.append("required \(p.location) parameter '\(p.name)' is missing, yet the answer is \(x.status)") }
                continue
            }
            out += validator.validate(typed(raw, p.schema), against: p.schema).map { "\(p.location) parameter '\(p.name)' \($0)" }
        }
        let body = x.requestBody ?? Data()
        let content = op.requestBody?["content"]?.objectValue ?? [:]
        if body.isEmpty {
            if op.requestBody?["required"]?.boolValue == true { out.append("the requestBody is required, none was sent, yet the answer is \(x.status)") }
            return out
        }
        guard op.requestBody != nil else { return out + ["a body was sent to an operation that documents none, and it answered \(x.status)"] }
        guard let media = Self.requestMediaType(x.requestHeaders["content-type"], body), let entry = content[media] else {
            return out + ["request Content-Type \(x.requestHeaders["content-type"] ?? "none") is not documented (documented: \(content.keys.sorted())), yet the answer is \(x.status)"]
        }
        if Self.isJSON(media), let schema = entry["schema"] {
            guard let json = JSONValue.parse(String(decoding: body, as: UTF8.self)) else { return out + ["the JSON request body does not parse, yet the answer is \(x.status)"] }
            out += validator.validate(json, against: schema).map { "request body \($0)" }
        }
        return out
    }

    private func responseViolations(_ op: Operation, _ x: Exchange) -> [String] {
        let code = String(x.status)
        guard let key = [code, "\(x.status / 100)XX", "default"].first(where: { op.responses[$0] != nil }), let response = op.responses[key] else {
            return ["status \(x.status) is not documented (documented: \(op.responses.keys.sorted()))"]
        }
        let content = response["content"]?.objectValue ?? [:]
        let media = Self.mediaType(x.responseHeaders["content-type"])
        if content.isEmpty {
            return x.responseBody.isEmpty ? [] : ["response \(key) documents no body, got \(x.responseBody.count) bytes of \(media ?? "untyped data")"]
        }
        guard let media, let entry = content[media] else {
            return ["Content-Type \(media ?? "none") is not documented for \(key) (documented: \(content.keys.sorted()))"]
        }
        guard Self.isJSON(media), let schema = entry["schema"] else { return [] }
        guard let json = JSONValue.parse(String(decoding: x.responseBody, as: UTF8.self)) else {
            return ["the \(media) body does not parse: \(String(decoding: x.responseBody.prefix(120), as: UTF8.self))"]
        }
        return validator.validate(json, against: schema).map { "body \($0)" }
    }
}

extension OpenAPIContract {
    static let repoRoot = PackagePaths.root
    static let specURL = repoRoot.appendingPathComponent("openapi/openapi.yaml")

    /// The repository's spec, loaded once per test process (nil and a reason when it does not load).
    static let shared: (contract: OpenAPIContract?, error: String?) = {
        do { return (try OpenAPIContract(yaml: String(contentsOf: specURL, encoding: .utf8)), nil) } catch { return (nil, "\(error)") }
    }()
}

/// Holds one real exchange to openapi/openapi.yaml and records an issue per violation, naming the
/// method, path, status and the JSON pointer of each. Every HTTP helper of the route tests calls it
/// (`LiveServer.call` does), so no response a test sees can drift from the spec unnoticed.
func checkAgainstOpenAPI(_ request: URLRequest, _ response: HTTPURLResponse, _ data: Data, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let contract = OpenAPIContract.shared.contract else {
        Issue.record("openapi/openapi.yaml does not load: \(OpenAPIContract.shared.error ?? "?")", sourceLocation: sourceLocation)
        return
    }
    guard let url = request.url, let parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return }
    let target = parts.percentEncodedPath + (parts.percentEncodedQuery.map { "?" + $0 } ?? "")
    var requestHeaders = [String: String]()
    for (k, v) in request.allHTTPHeaderFields ?? [:] { requestHeaders[k.lowercased()] = v }
    var responseHeaders = [String: String]()
    for (k, v) in response.allHeaderFields { responseHeaders["\(k)".lowercased()] = "\(v)" }
    let method = request.httpMethod ?? "GET"
    let exchange = OpenAPIContract.Exchange(method: method, target: target, requestHeaders: requestHeaders, requestBody: request.httpBody,
                                            status: response.statusCode, responseHeaders: responseHeaders, responseBody: data)
    for v in contract.violations(of: exchange) {
        Issue.record("OpenAPI: \(method) \(target.prefix(160)) → \(response.statusCode): \(v)", sourceLocation: sourceLocation)
    }
}
