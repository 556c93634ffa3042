import Core
import Foundation
import Jobs
import Server
import Store
import Testing

/// openapi/openapi.yaml against the routes the real server registers.
///
/// The route list comes from `APIServer.allRoutes` on a real `SQLiteStore` in a temp directory,
/// with a `JobRunner` as `swejepa serve` has (nothing listens, no worker runs); the spec is read with a small line-based parser of its `paths:` section:
/// path keys at 2-space indent, methods at 4-space indent, `operationId`/`responses` at 6, status
/// codes at 8 (no YAML dependency).
@Suite struct OpenAPITests {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let specURL = repoRoot.appendingPathComponent("openapi/openapi.yaml")

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

    static func spec() throws -> OpenAPIPaths {
        try OpenAPIPaths(parsing: String(contentsOf: specURL, encoding: .utf8))
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
            #expect(op.responses.contains { $0.hasPrefix("4") }, "\(op.key) lists no 4xx response (has \(op.responses))")
        }
    }

    /// The parser itself, on a small spec with known defects, so the checks above cannot pass vacuously.
    @Test func parserFindsOperationsAndDefects() throws {
        let text = """
            openapi: 3.1.0
            paths:
              # ---- a ----
              /a/{id}:
                parameters:
                  - $ref: '#/components/parameters/Id'
                get:
                  operationId: getA
                  responses:
                    '200': { description: ok }
                    "404": { description: no }
                delete:
                  responses:
                    204:
                      description: gone
              /b:
                post:
                  operationId: postB
                  responses:
                    '200':
                      description: |
                        '400': this line is description text, not a response
                    '4XX': { $ref: '#/components/responses/ClientError' }
                put:
                  operationId: putB
                  responses:
                    '200': { description: ok }
            components:
              schemas:
                X: { type: object }
            """
        let spec = try OpenAPIPaths(parsing: text)
        #expect(spec.operations.map(\.key) == ["GET /a/{id}", "DELETE /a/{id}", "POST /b", "PUT /b"])
        #expect(spec.operations.map(\.operationId) == ["getA", nil, "postB", "putB"])
        #expect(spec.operations.map(\.responses) == [["200", "404"], ["204"], ["200", "4XX"], ["200"]])
        #expect(throws: OpenAPIPaths.ParseError.self) { try OpenAPIPaths(parsing: "openapi: 3.1.0\ninfo: {}\n") }
    }
}

/// The operations of an OpenAPI document's `paths:` section, read line by line.
struct OpenAPIPaths {
    struct Operation {
        var method: String
        var template: String
        var operationId: String?
        var responses: [String] = []
        var key: String { "\(method) \(template)" }
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    static let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    private(set) var operations: [Operation] = []
    /// Layout the parser could not read (tabs, unexpected indentation under `paths:`).
    private(set) var problems: [String] = []

    init(parsing text: String) throws {
        var inPaths = false, sawPaths = false
        var template: String?
        var current: Int?  // index in `operations` of the method block being read
        var inResponses = false
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if line.hasPrefix("\t") { problems.append("line \(number + 1): tab indentation") }
            let indent = line.prefix { $0 == " " }.count
            if indent <= 4 { inResponses = false }
            if indent == 0 {
                inPaths = Self.key(trimmed) == "paths"
                sawPaths = sawPaths || inPaths
                template = nil
                current = nil
                continue
            }
            guard inPaths else { continue }
            switch indent {
            case 2:
                current = nil
                template = Self.key(trimmed).flatMap { $0.hasPrefix("/") ? $0 : nil }
                if template == nil { problems.append("line \(number + 1): expected a path key like '/v1/x:' at indent 2") }
            case 4:
                current = nil
                guard let t = template, let k = Self.key(trimmed) else { continue }
                if Self.methods.contains(k) {
                    operations.append(Operation(method: k.uppercased(), template: t))
                    current = operations.count - 1
                } else if !["parameters", "summary", "description", "servers"].contains(k) {
                    problems.append("line \(number + 1): '\(k)' under \(t) is not an HTTP method")
                }
            case 6:
                guard let i = current else { continue }
                let k = Self.key(trimmed)
                inResponses = k == "responses"
                if k == "operationId" {
                    let value = trimmed.dropFirst("operationId:".count).trimmingCharacters(in: CharacterSet(charactersIn: " '\""))
                    operations[i].operationId = value.isEmpty ? nil : value
                }
            case 8:
                if inResponses, let i = current, let k = Self.key(trimmed) { operations[i].responses.append(k) }
            default:
                continue
            }
        }
        guard sawPaths else { throw ParseError(description: "no top-level 'paths:' section") }
    }

    /// The key of a `key:` or `key: value` line, without quotes; nil for list items and plain text.
    static func key(_ trimmed: String) -> String? {
        guard !trimmed.hasPrefix("-") else { return nil }
        var s = Substring(trimmed)
        if let q = s.first, q == "'" || q == "\"" {
            guard let end = s.dropFirst().firstIndex(of: q) else { return nil }
            let k = s[s.index(after: s.startIndex)..<end]
            let rest = s[s.index(after: end)...]
            return rest.hasPrefix(":") ? String(k) : nil
        }
        guard let colon = s.firstIndex(of: ":") else { return nil }
        let after = s[s.index(after: colon)...]
        guard after.isEmpty || after.hasPrefix(" ") else { return nil }
        s = s[..<colon]
        return s.contains(" ") ? nil : String(s)
    }
}
