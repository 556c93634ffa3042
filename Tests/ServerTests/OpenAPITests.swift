import Core
import Foundation
import Jobs
import Services
import Server
import Store
import Testing

/// openapi/openapi.yaml against the routes the real server registers, and against what the route
/// tests send.
///
/// The route list comes from `APIServer.allRoutes` on a real `SQLiteStore` in a temp directory,
/// with a `JobRunner` as `swejepa serve` has (nothing listens, no worker runs); the spec is parsed
/// with Yams into `OpenAPIContract`, the same object that checks every exchange of the route tests
/// (see `checkAgainstOpenAPI` in OpenAPIContract.swift). Coverage: which documented operations no
/// route test requests, read from the test sources, must be exactly `unexercised` (a list that can
/// only shrink).
@Suite struct OpenAPITests {
    static let repoRoot = OpenAPIContract.repoRoot
    static let specURL = OpenAPIContract.specURL

    /// "METHOD /template" for every route of the server.
    static func registeredRoutes() throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(directory: dir, migrations: repoRoot.appendingPathComponent("migrations/sqlite"))
        var config = ServerConfig()
        config.port = 0
        // As `swejepa serve` builds it: with a job runner and the search service, so the job and search
        // routes are registered too (the runner starts no workers until `start`).
        let runner = JobRunner(store: store, dataDirectory: dir, workers: 0)
        let search = SearchService(store: store, dataDirectory: dir)
        let ctx = ServiceContext(store: store, config: config, dataDirectory: dir, jobs: runner, search: search)
        let server = try APIServer(context: ctx)
        server.add(routes: APIServer.allRoutes(ctx))
        return server.routes.map { "\($0.method.uppercased()) \($0.template)" }
    }

    static func spec() throws -> OpenAPIContract {
        try OpenAPIContract(yaml: String(contentsOf: specURL, encoding: .utf8))
    }

    @Test func specIsOpenAPI31() throws {
        let text = try String(contentsOf: Self.specURL, encoding: .utf8)
        let first = text.split(separator: "\n").first { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(first?.hasPrefix("openapi: 3.1") == true, "openapi.yaml must start with 'openapi: 3.1.x', got \(first.map(String.init) ?? "nothing")")
    }

    @Test func everyRegisteredRouteIsInTheSpecAndNothingElse() throws {
        let routes = try Self.registeredRoutes()
        let spec = try Self.spec()
        #expect(!routes.isEmpty)
        let registered = Set(routes)
        #expect(registered.count == routes.count, "the server registers a route twice: \(routes.sorted())")
        let documented = Set(spec.operations.map(\.key))
        let missing = registered.subtracting(documented).sorted()
        let extra = documented.subtracting(registered).sorted()
        #expect(missing.isEmpty, "routes the server registers but openapi/openapi.yaml lacks: \(missing.joined(separator: ", "))")
        #expect(extra.isEmpty, "routes in openapi/openapi.yaml that the server does not register: \(extra.joined(separator: ", "))")
    }

    @Test func everyOperationHasAnIdAndA4xxResponse() throws {
        let spec = try Self.spec()
        #expect(!spec.operations.isEmpty)
        #expect(spec.problems.isEmpty, "openapi.yaml paths section: \(spec.problems.joined(separator: "; "))")
        var seen = [String: String]()
        for op in spec.operations {
            if let id = op.operationId {
                #expect(seen[id] == nil, "operationId \(id) of \(op.key) repeats \(seen[id] ?? "")")
                seen[id] = op.key
            } else {
                Issue.record("\(op.key) has no operationId")
            }
            #expect(op.responses.keys.contains { $0.hasPrefix("4") }, "\(op.key) lists no 4xx response (has \(op.responses.keys.sorted()))")
        }
    }

    /// Every schema in the spec uses only keywords `SchemaValidator` checks or knows to ignore, and
    /// every `$ref` resolves: a keyword the validator skipped would be a check that cannot fail.
    @Test func everySchemaIsOneTheValidatorUnderstands() throws {
        let spec = try Self.spec()
        var schemas = [(String, JSONValue)]()
        func collect(_ v: JSONValue, _ at: String) {
            switch v {
            case .object(let o):
                for (k, sub) in o {
                    if k == "schema" { schemas.append((SchemaValidator.pointer(at, k), sub)) } else { collect(sub, SchemaValidator.pointer(at, k)) }
                }
            case .array(let a):
                for (i, sub) in a.enumerated() { collect(sub, SchemaValidator.pointer(at, String(i))) }
            default: break
            }
        }
        collect(spec.document["paths"] ?? .null, "/paths")
        collect(spec.document["components"]?["parameters"] ?? .null, "/components/parameters")
        collect(spec.document["components"]?["responses"] ?? .null, "/components/responses")
        for (name, schema) in spec.document["components"]?["schemas"]?.objectValue ?? [:] {
            schemas.append(("/components/schemas/\(name)", schema))
        }
        #expect(schemas.count > 50)
        var problems = [String]()
        func walk(_ s: JSONValue, _ at: String) {
            guard case .object(let o) = s else {
                if case .bool = s { return }
                problems.append("\(at): not a schema")
                return
            }
            for k in o.keys where !SchemaValidator.assertions.contains(k) && !SchemaValidator.annotations.contains(k) {
                problems.append("\(at): keyword '\(k)'")
            }
            if let r = o["$ref"]?.stringValue, spec.validator.resolve(ref: r) == nil { problems.append("\(at): $ref \(r) does not resolve") }
            for (k, sub) in o["properties"]?.objectValue ?? [:] { walk(sub, at + "/properties/" + k) }
            for k in ["items", "additionalProperties", "not"] { if let sub = o[k] { walk(sub, at + "/" + k) } }
            for k in ["oneOf", "anyOf", "allOf"] {
                for (i, sub) in (o[k]?.arrayValue ?? []).enumerated() { walk(sub, at + "/\(k)/\(i)") }
            }
        }
        for (at, schema) in schemas { walk(schema, at) }
        #expect(problems.isEmpty, "\(problems.sorted().joined(separator: "\n"))")
    }

    /// Documented operations that no route test requests. Shrink it by adding a route test; an
    /// operation that loses its last test fails here until it is listed again.
    static let unexercised: Set<String> = [
    ]

    @Test func everyDocumentedOperationIsExercisedOrListed() throws {
        let spec = try Self.spec()
        let dir = Self.repoRoot.appendingPathComponent("Tests/ServerTests")
        var exercised = Set<String>()
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        where file.hasSuffix(".swift") && !["OpenAPITests.swift", "OpenAPIContractTests.swift"].contains(file) {  // their paths are examples
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            for (method, target) in Self.requests(in: text) {
                if let op = spec.operation(for: method, target: target) { exercised.insert(op.key) }
            }
        }
        let unexercised = Set(spec.operations.map(\.key)).subtracting(exercised)
        let nowTested = Self.unexercised.subtracting(unexercised).sorted()
        let untested = unexercised.subtracting(Self.unexercised).sorted()
        #expect(nowTested.isEmpty, "now exercised by a route test, remove from OpenAPITests.unexercised: \(nowTested)")
        #expect(untested.isEmpty, "documented but requested by no route test: \(untested)")
    }

    /// The (method, path) pairs a test source spells out: `call("GET", "/v1/x/\(id)")`,
    /// `Case(method: "POST", path: "/v1/…")`, method-named helpers `post("/v1/…")`, and
    /// `URL(string: "\(base)/v1/…")` (a URLRequest's default method, GET). Interpolations
    /// become `1` (a plausible id), so `/v1/jobs/\(id)/logs` is `/v1/jobs/1/logs`.
    static func requests(in text: String) -> [(method: String, target: String)] {
        let pattern = #""(GET|POST|PUT|DELETE|PATCH)"\s*,\s*(?:path:\s*)?"|\b(get|post|put|delete|patch)\(\s*"|URL\(string:\s*"\\\(base\)"#
        guard let re = try? NSRegularExpression(pattern: pattern) else { return [] }
        let ns = text as NSString
        var out = [(String, String)]()
        for m in re.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let method = m.range(at: 1).location != NSNotFound ? ns.substring(with: m.range(at: 1))
                : m.range(at: 2).location != NSNotFound ? ns.substring(with: m.range(at: 2)).uppercased() : "GET"
            // Read the path literal, replacing each `\(…)` by "1".
            var path = "", depth = 0, escaped = false
            for ch in ns.substring(from: m.range.location + m.range.length).prefix(400) {
                if depth > 0 {
                    if ch == "(" { depth += 1 } else if ch == ")" { depth -= 1 }
                    if depth == 0 { path += "1" }
                } else if escaped {
                    escaped = false
                    if ch == "(" { depth = 1 } else { path.append(ch) }
                } else if ch == "\\" {
                    escaped = true
                } else if ch == "\"" || ch == "\n" {
                    break
                } else {
                    path.append(ch)
                }
            }
            if path.hasPrefix("/") { out.append((method, path)) }
        }
        return out
    }

    @Test func requestScannerReadsTheShapesTheTestsUse() {
        let source = #"""
            let r = try await s.call("GET", "/v1/jobs/\(job["id"]!.intValue!)/logs?limit=2")
            Case(method: "PUT", path: "/v1/spaces/sp/vectors?ids=\(i1)", body: Data())
            let p = try await s.post("/v1/predict", body)
            _ = try await s.call(c.method, c.path)
            let (status, job) = try await call("POST", "/v1/jobs", #"{"type": "sleep"}"#)
            let follow = URLRequest(url: URL(string: "\(base)/v1/jobs/\(id)/events")!)
            """#
        let found = Self.requests(in: source)
        #expect(found.map(\.method) == ["GET", "PUT", "POST", "POST", "GET"])
        #expect(found.map(\.target) == ["/v1/jobs/1/logs?limit=2", "/v1/spaces/sp/vectors?ids=1", "/v1/predict", "/v1/jobs", "/v1/jobs/1/events"])
    }
}
