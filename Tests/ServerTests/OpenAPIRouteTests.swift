import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Jobs
@testable import Server
import Store
import Testing

/// Routes (and variants) no other route test requests, exercised on a real server so that their
/// real answers go through the contract check against openapi/openapi.yaml (`checkAgainstOpenAPI`,
/// run by `LiveServer.call` and `send` below), besides the few facts checked here directly.
@Suite struct OpenAPIRouteTests {
    /// One validated request to `base` (for servers that `LiveServer` does not build: with a job runner).
    static func send(_ base: String, _ method: String, _ path: String, _ json: JSONValue? = nil,
                     sourceLocation: SourceLocation = #_sourceLocation) async throws -> (status: Int, json: JSONValue?) {
        var req = URLRequest(url: URL(string: base + path)!)
        req.httpMethod = method
        if let json {
            req.httpBody = Data(json.jsonString().utf8)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, resp) = try await URLSession.shared.data(for: req)
        checkAgainstOpenAPI(req, resp as! HTTPURLResponse, data, sourceLocation: sourceLocation)
        return ((resp as! HTTPURLResponse).statusCode, JSONValue.parse(String(decoding: data, as: UTF8.self)))
    }

    /// The dashboard page, and an `ip` space whose index info names its metric as the space does (issue 10).
    @Test func dashboardAndAnInnerProductIndex() async throws {
        let s = try await LiveServer()
        defer { Task { await s.stop() } }
        let page = try await s.call("GET", "/")
        #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true)

        let ids = try #require(try await s.call("POST", "/v1/functions", json: sampleFunctions).json?["ids"]?.arrayValue)
        let space = try await s.call("POST", "/v1/spaces", json: ["name": "dot", "kind": "body_mean", "dim": 2, "metric": "ip"])
        #expect(space.status == 201 && space.json?["metric"] == "ip")
        let put = try await s.call("PUT", "/v1/spaces/dot/vectors", json: ["ids": .array(ids), "vectors": [[1, 0], [0, 1], [1, 1]]])
        #expect(put.status == 200)
        let index = try await s.call("GET", "/v1/spaces/dot/index")
        #expect(index.status == 200 && index.json?["metric"] == "ip" && index.json?["count"] == 3)
        let l2 = try await s.call("POST", "/v1/spaces/dot/index", json: ["factory": "Flat", "metric": "l2"])
        #expect(l2.status == 200 && l2.json?["metric"] == "l2")
        let ip = try await s.call("POST", "/v1/spaces/dot/index", json: ["factory": "Flat", "metric": "ip"])
        #expect(ip.status == 200 && ip.json?["metric"] == "ip")
    }

    /// `GET /v1/repos` and `POST /v1/repos` on a server with a job runner (no worker runs: the job stays queued).
    @Test func repositoriesAreListedAndAnIngestIsQueued() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swejepa-openapi-repos-\(UUID().uuidString)")
        let source = dir.appendingPathComponent("src")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try Data("def f(x):\n    return x\n".utf8).write(to: source.appendingPathComponent("m.py"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(directory: dir)
        let runner = JobRunner(store: store, dataDirectory: dir, workers: 0)
        JobTypes.registerAll(on: runner)
        var config = ServerConfig()
        config.port = 0
        let ctx = ServiceContext(store: store, config: config, dataDirectory: dir, jobs: runner)
        let server = try APIServer(context: ctx)
        server.add(routes: APIServer.allRoutes(ctx))
        let task = Task { try await server.run() }
        defer { Task { await server.stop(timeout: 2); task.cancel() } }
        try await server.waitUntilListening()
        let base = "http://127.0.0.1:\(await server.port()!)"

        #expect(try await Self.send(base, "POST", "/v1/functions", sampleFunctions).status == 200)
        let repos = try await Self.send(base, "GET", "/v1/repos")
        #expect(repos.json?["repos"]?.arrayValue?.compactMap { $0["name"]?.stringValue }.sorted() == ["alpha", "beta"])
        let ingest = try await Self.send(base, "POST", "/v1/repos", ["path": .string(source.path), "name": "demo"])
        #expect(ingest.status == 202 && ingest.json?["type"] == "ingest" && ingest.json?["state"] == "queued")
        let missing = try await Self.send(base, "POST", "/v1/repos", ["path": .string(dir.appendingPathComponent("nope").path)])
        #expect(missing.status == 400)
    }

    /// `POST /v1/embed` with the real teacher, as JSON and as `.npy`, and a bad request.
    @Test(.enabled(if: PredictTests.modelAvailable, "needs the teacher model (make model)"))
    func embedAnswersJSONAndNpy() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swejepa-openapi-embed-\(UUID().uuidString)")
        let models = dir.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: models.appendingPathComponent("all-MiniLM-L6-v2"), withDestinationURL: PredictTests.modelDir)
        let s = try await LiveServer(dir: dir)
        defer { Task { await s.stop() } }
        let json = try await s.call("POST", "/v1/embed", json: ["texts": ["def f(x):", "return x"], "layer": 2])
        #expect(json.status == 200 && json.json?["dim"] == 384 && json.json?["vectors"]?.arrayValue?.count == 2)
        let npy = try await s.call("POST", "/v1/embed?format=npy", json: ["texts": ["def f(x):"]])
        #expect(npy.status == 200 && npy.headers["content-type"] == "application/x-npy")
        #expect(try await s.call("POST", "/v1/embed", json: ["texts": []]).status == 400)
    }
}
