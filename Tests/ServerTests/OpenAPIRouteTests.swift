import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Jobs
@testable import Server
import Store
import Testing
import TestSupport

/// Routes (and variants) no other route test requests, exercised on a real server so that their
/// real answers go through the contract check against openapi/openapi.yaml (`checkAgainstOpenAPI`,
/// run by `LiveServer.call`), besides the few facts checked here directly.
@Suite struct OpenAPIRouteTests {
    /// The dashboard page, and an `ip` space whose index info names its metric as the space does (issue 10).
    @Test(arguments: Backend.all) func dashboardAndAnInnerProductIndex(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
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
    @Test(arguments: Backend.all) func repositoriesAreListedAndAnIngestIsQueued(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("ingest-root")
        defer { removeTemporaryDirectory(dir) }
        let s = try await LiveServer(backend, jobs: .init(workers: 0, ingestRoots: [dir.path]))
        defer { Task { await s.stop() } }
        let source = dir.appendingPathComponent("src")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try Data("def f(x):\n    return x\n".utf8).write(to: source.appendingPathComponent("m.py"))

        #expect(try await s.call("POST", "/v1/functions", json: sampleFunctions).status == 200)
        let repos = try await s.call("GET", "/v1/repos")
        #expect(repos.json?["repos"]?.arrayValue?.compactMap { $0["name"]?.stringValue }.sorted() == ["alpha", "beta"])
        let ingest = try await s.call("POST", "/v1/repos", json: ["path": .string(source.path), "name": "demo"])
        #expect(ingest.status == 202 && ingest.json?["type"] == "ingest" && ingest.json?["state"] == "queued")
        let missing = try await s.call("POST", "/v1/repos", json: ["path": .string(dir.appendingPathComponent("nope").path)])
        #expect(missing.status == 400 && missing.errorCode == "invalid_path")
        let outside = try await s.call("POST", "/v1/repos", json: ["path": .string(s.dir.path)])
        #expect(outside.status == 403 && outside.errorCode == "ingest_path_forbidden")
    }

    /// `POST /v1/embed` with the real teacher, as JSON and as `.npy`, and a bad request.
    @Test(.enabled(if: PredictTests.modelAvailable, "needs the teacher model (make model)"), arguments: Backend.all)
    func embedAnswersJSONAndNpy(_ backend: Backend) async throws {
        let s = try await LiveServer(backend, model: PredictTests.modelDir)
        defer { Task { await s.stop() } }
        let json = try await s.call("POST", "/v1/embed", json: ["texts": ["def f(x):", "return x"], "layer": 2])
        #expect(json.status == 200 && json.json?["dim"] == 384 && json.json?["vectors"]?.arrayValue?.count == 2)
        let npy = try await s.call("POST", "/v1/embed?format=npy", json: ["texts": ["def f(x):"]])
        #expect(npy.status == 200 && npy.headers["content-type"] == "application/x-npy")
        #expect(try await s.call("POST", "/v1/embed", json: ["texts": []]).status == 400)
    }
}
