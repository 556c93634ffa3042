import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
@testable import Server
import Jobs
import Services
import Store
import Testing
import TestSupport

/// A real server on an ephemeral loopback port over a real store of `backend` (SQLite: swejepa.sqlite
/// in the data directory, as `serve --data` puts it; PostgreSQL: a fresh schema on `SWEJEPA_TEST_PG`,
/// `TestStore`), with FAISS search and, when asked (`jobs:`), a job runner on the same store, wired as
/// `swejepa serve` wires them (every job type registered, vector writes of jobs passed on to search).
/// Route tests take the backend from `@Test(arguments: Backend.all)`.
final class LiveServer: @unchecked Sendable {
    /// The job runner of a server made with `jobs:`.
    struct JobOptions {
        /// Workers inside the server (0: jobs are only queued).
        var workers = 1
        var lease: Double = 30
        var heartbeat: Double = 0.2
        /// Whether workers start with the server.
        var start = true
        /// Directories `POST /v1/repos` may ingest (`serve --ingest-root`; none: every server path is refused).
        var ingestRoots: [String] = []
    }

    let dir: URL
    let backend: Backend
    let store: any StoreBackend
    /// The PostgreSQL schema this server made (dropped by `stop()`); nil for SQLite or a shared store.
    private let ownStore: TestStore?
    let server: APIServer
    let port: UInt16
    let task: Task<Void, any Error>
    let search: SearchService
    /// The job runner (nil unless made with `jobs:`).
    let runner: JobRunner?
    /// Whether `stop()` removes `dir` (it does when the server made it; a linked model is left alone).
    private let ownsDirectory: Bool
    var base: String { "http://127.0.0.1:\(port)" }

    /// A server on `dir` (default: a fresh temporary directory, removed by `stop()`); `model`: the teacher
    /// folder, linked (a symlink) as models/all-MiniLM-L6-v2, the default model, before the server opens the directory.
    /// `sharing`: a store made by the test that outlives this server (a restart opens it again, as a new
    /// process would); without it SQLite lives in `dir` and PostgreSQL in a schema of this server's own.
    init(_ backend: Backend = .sqlite, dir: URL? = nil, sharing: TestStore? = nil, model: URL? = nil, jobs: JobOptions? = nil,
         configure: (inout ServerConfig) -> Void = { _ in }) async throws {
        self.backend = backend
        ownsDirectory = dir == nil
        self.dir = try dir ?? makeTemporaryDirectory("server")
        if let model {
            let models = self.dir.appendingPathComponent("models")
            try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(at: models.appendingPathComponent("all-MiniLM-L6-v2"), withDestinationURL: model)
        }
        var config = ServerConfig()
        config.port = 0
        configure(&config)
        let store: any StoreBackend
        if let sharing {
            store = try sharing.open()
            ownStore = nil
        } else if backend == .sqlite {
            store = try SQLiteStore(directory: self.dir)
            ownStore = nil
        } else {
            let fresh = try TestStore(backend)
            store = fresh.store
            ownStore = fresh
        }
        self.store = store
        let search = SearchService(store: store, dataDirectory: self.dir)
        self.search = search
        if let jobs {
            let runner = JobRunner(store: store, dataDirectory: self.dir, workers: jobs.workers,
                                   leaseSeconds: jobs.lease, heartbeatSeconds: jobs.heartbeat)
            JobTypes.registerAll(on: runner, writer: VectorWriter(store: store, search: search), ingestRoots: try IngestRoots(jobs.ingestRoots))
            self.runner = runner
        } else {
            runner = nil
        }
        let ctx = ServiceContext(store: store, config: config, dataDirectory: self.dir, jobs: runner, search: search)
        server = try APIServer(context: ctx)
        server.add(routes: APIServer.allRoutes(ctx))
        let s = server
        task = Task { try await s.run() }
        try await server.waitUntilListening(timeout: 300)  // a bound, not a measurement: a loaded machine may take long
        port = await server.port()!
        if let jobs, jobs.start { runner?.start() }
    }

    /// Stops the runner, search and the server; removes the data directory the server made.
    func stop() async {
        await runner?.stop()
        await search.stop()
        await server.stop(timeout: 2)
        task.cancel()
        if ownsDirectory { removeTemporaryDirectory(dir) }
        ownStore?.remove()
    }

    /// `/v1/stats`' store counts, to compare before and after; on PostgreSQL without `database_bytes`
    /// (pg_database_size covers the whole database, whose other schemas the parallel tests are filling).
    func storeCounts(sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue? {
        let counts = try await call("GET", "/v1/stats", sourceLocation: sourceLocation).json?["store"]
        guard backend == .postgres, case .object(var fields)? = counts else { return counts }
        fields["database_bytes"] = nil
        return .object(fields)
    }

    /// The SQLite store of a SQLite server (for the tests that reach into SQLite itself).
    var sqlite: SQLiteStore {
        get throws { try #require(store as? SQLiteStore, "a SQLite-only test ran on \(backend)") }
    }

    struct Response {
        var status: Int
        var body: Data
        var headers: [String: String]
        var json: JSONValue? { JSONValue.parse(String(decoding: body, as: UTF8.self)) }
        var errorCode: String? { json?["error"]?["code"]?.stringValue }
    }

    /// Sends one request and returns the answer; the exchange is checked against openapi/openapi.yaml
    /// (`checkAgainstOpenAPI`): a response the spec does not describe is an issue of the calling test.
    func call(_ method: String, _ path: String, body: Data? = nil, json: JSONValue? = nil,
              contentType: String? = nil, headers: [String: String] = [:],
              sourceLocation: SourceLocation = #_sourceLocation) async throws -> Response {
        var req = URLRequest(url: URL(string: base + path)!)
        req.httpMethod = method
        if let json {
            req.httpBody = Data(json.jsonString().utf8)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let body { req.httpBody = body }
        if let contentType { req.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: req)
        let http = response as! HTTPURLResponse
        checkAgainstOpenAPI(req, http, data, sourceLocation: sourceLocation)
        var h = [String: String]()
        for (k, v) in http.allHeaderFields { h["\(k)".lowercased()] = "\(v)" }
        return Response(status: http.statusCode, body: data, headers: h)
    }
}

