import Core
import Foundation
import Store
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A scratch database on the test cluster (`SWEJEPA_TEST_PG`, started by `make test`), made with
/// `psql` and dropped at the end.
struct ScratchDatabase {
    let name: String
    let url: String
    static var server: String? { ProcessInfo.processInfo.environment["SWEJEPA_TEST_PG"].flatMap { $0.isEmpty ? nil : $0 } }

    init(_ label: String) throws {
        guard let server = Self.server else { throw ServerProcess.Failure(description: "SWEJEPA_TEST_PG is not set") }
        name = "t_\(label)_\(UUID().uuidString.prefix(8).lowercased())"
        try Self.psql(server, "CREATE DATABASE \(name)")
        // Same server, other database: replace the path of the URL.
        var parts = URLComponents(string: server)!
        parts.path = "/" + name
        url = parts.string!
    }

    func drop() {
        if let server = Self.server { try? Self.psql(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    }

    static func psql(_ url: String, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw ServerProcess.Failure(description: "psql failed: \(sql)") }
    }
}

/// `swejepa worker --db URL` as a child process (output in a file next to `data`).
final class WorkerProcess: @unchecked Sendable {
    let process = Process()
    init(binary: URL, db: String, data: URL, arguments: [String] = []) throws {
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let log = data.appendingPathComponent("worker-\(UUID().uuidString.prefix(6)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = binary
        process.arguments = ["worker", "--db", db, "--data", data.path] + arguments
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }
    func stop() { if process.isRunning { kill(process.processIdentifier, SIGTERM) } }
    func kill9() { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// Real processes on one PostgreSQL database: workers draining a queue, a killed worker's job rescued,
/// two servers seeing each other's writes, concurrent migrations, and copies between backends.
@Suite(.serialized, .enabled(if: ScratchDatabase.server != nil && SwejepaBinary.any != nil, "needs SWEJEPA_TEST_PG (make test starts a cluster) and the swejepa binary"))
struct PostgresProcessTests {
    let bin = SwejepaBinary.any!

    @Test func threeWorkersDrainThreeHundredJobsNoneTwiceNoneLost() async throws {
        let db = try ScratchDatabase("drain")
        defer { db.drop() }
        let dir = try makeTemporaryDirectory("pg-drain")
        defer { removeTemporaryDirectory(dir) }
        let store = try openStore(.postgres(url: db.url), options: StoreOptions(poolSize: 2))
        var ids = [Int64]()
        for _ in 0..<300 { ids.append(try await store.createJob(type: "sleep", params: .object(["seconds": .number(0), "steps": .number(1)]), maxAttempts: 3).id) }
        let workers = try (0..<3).map { i in try WorkerProcess(binary: bin, db: db.url, data: dir.appendingPathComponent("w\(i)"), arguments: ["--workers", "2"]) }
        defer { workers.forEach { $0.kill9() } }
        let done = try await eventually(300) {
            try await store.jobs(state: .succeeded, type: "sleep", limit: 1_000).count == 300
        }
        #expect(done)
        let jobs = try await store.jobs(state: nil, type: "sleep", limit: 1_000)
        #expect(Set(jobs.map(\.id)) == Set(ids))
        #expect(jobs.allSatisfy { $0.state == .succeeded && $0.attempt == 1 }, "\(jobs.filter { $0.attempt != 1 }.map { ($0.id, $0.attempt) })")
        // Every process took a share (the queue was not drained by one of them).
        let processes = Set(jobs.compactMap { $0.worker?.split(separator: "#").first.map(String.init) })
        #expect(processes.count == 3, "\(processes)")
        for w in workers { w.stop() }
    }

    @Test func aKilledWorkersJobIsRescuedAndFinishedByAnother() async throws {
        let db = try ScratchDatabase("rescue")
        defer { db.drop() }
        let dir = try makeTemporaryDirectory("pg-rescue")
        defer { removeTemporaryDirectory(dir) }
        let store = try openStore(.postgres(url: db.url), options: StoreOptions(poolSize: 2))
        let job = try await store.createJob(type: "sleep", params: .object(["seconds": .number(0.2), "steps": .number(4), "hold_after_step": .number(1)]), maxAttempts: 3)
        let data = dir.appendingPathComponent("shared")
        let first = try WorkerProcess(binary: bin, db: db.url, data: data, arguments: ["--lease", "3"])
        defer { first.kill9() }
        // Parked after step 1 (the hold file does not exist yet): running, held by the first worker.
        let parked = try await eventually(120) {
            let running = try await store.job(id: job.id)?.state == .running
            let points = try await store.jobMetrics(job: job.id, name: nil, afterStep: nil).count
            return running && points >= 2
        }
        #expect(parked)
        let holder = try #require(try await store.job(id: job.id)?.worker)
        first.kill9()
        try FileManager.default.createDirectory(at: data.appendingPathComponent("diagnostics"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: data.appendingPathComponent("diagnostics/sleep-\(job.id).release").path, contents: Data())
        let second = try WorkerProcess(binary: bin, db: db.url, data: data, arguments: ["--lease", "3"])
        defer { second.kill9() }
        #expect(try await eventually(120) { try await store.job(id: job.id)?.state == .succeeded })
        let finished = try #require(try await store.job(id: job.id))
        #expect(finished.attempt == 2 && finished.worker != holder, "\(finished)")
        second.stop()
    }

    @Test func twoServersSeeEachOthersVectorWritesInSearch() async throws {
        let db = try ScratchDatabase("two_serve")
        defer { db.drop() }
        let root = try makeTemporaryDirectory("pg-two-serve")
        defer { removeTemporaryDirectory(root) }
        let a = try await ServerProcess(binary: bin, data: root.appendingPathComponent("a"), arguments: ["--db", db.url, "--workers", "0"])
        defer { a.kill9() }
        let b = try await ServerProcess(binary: bin, data: root.appendingPathComponent("b"), arguments: ["--db", db.url, "--workers", "0"])
        defer { b.kill9() }
        let functions: JSONValue = .object(["functions": .array((0..<6).map { i in .object([
            "repo": "r", "path": "m.py", "qualified_name": .string("f\(i)"), "start_line": 1, "end_line": 2,
            "signature": .string("def f\(i)():"), "body": .string("    return \(i)\n")]) })])
        let made = try await a.call("POST", "/v1/functions", json: functions)
        #expect(made.status == 200, "\(made.json as Any)")
        let ids = try #require(made.json?["ids"]?.arrayValue?.compactMap { $0.intValue.map(Int64.init) })
        #expect(try await a.call("POST", "/v1/spaces", json: .object(["name": "s", "kind": "custom", "dim": 2, "metric": "l2"])).status == 201)
        func put(_ server: ServerProcess, _ pairs: [(Int64, [Double])]) async throws {
            let body: JSONValue = .object(["ids": .array(pairs.map { .number(Double($0.0)) }),
                                           "vectors": .array(pairs.map { .array($0.1.map { .number($0) }) })])
            let r = try await server.call("PUT", "/v1/spaces/s/vectors", json: body)
            #expect(r.status == 200, "\(r.json as Any)")
        }
        func nearest(_ server: ServerProcess, _ q: [Double]) async throws -> [Int64] {
            let r = try await server.call("POST", "/v1/spaces/s/search", json: .object(["vectors": .array([.array(q.map { .number($0) })]), "k": 3]))
            return r.json?["results"]?.arrayValue?.first?["hits"]?.arrayValue?.compactMap { $0["id"]?.intValue.map(Int64.init) } ?? []
        }
        try await put(a, [(ids[0], [0, 0]), (ids[1], [10, 0]), (ids[2], [0, 10])])
        #expect(try await nearest(b, [9, 0]) == [ids[1], ids[0], ids[2]])
        // B writes; A sees it within a second (its index is caught up before the search).
        try await put(b, [(ids[3], [9, 0.5])])
        let t0 = Date()
        #expect(try await nearest(a, [9, 0]).first == ids[3])
        #expect(Date().timeIntervalSince(t0) < 1, "seen within a second")
        // A deletes a function B's index holds; B no longer answers it.
        #expect(try await a.call("DELETE", "/v1/functions/\(ids[3])").status == 204)
        #expect(try await nearest(b, [9, 0]).first == ids[1])
    }

    @Test func twoProcessesMigratingAtOnceApplyEachMigrationOnce() async throws {
        let db = try ScratchDatabase("migrate")
        defer { db.drop() }
        async let one = run(bin, ["migrate", "--db", db.url])
        async let two = run(bin, ["migrate", "--db", db.url])
        let (x, y) = try await (one, two)
        #expect(x.status == 0 && y.status == 0, "\(x)\n\(y)")
        let files = try FileManager.default.contentsOfDirectory(atPath: PackagePaths.root.appendingPathComponent("migrations/postgres").path).filter { $0.hasSuffix(".sql") }
        let appliedNow = (x.stdout + y.stdout).components(separatedBy: "(applied now)").count - 1
        #expect(appliedNow == files.count, "\(x.stdout)\n\(y.stdout)")
    }

    @Test func copyRoundTripsAStoreThroughPostgreSQLWithIdenticalChecksums() async throws {
        let db = try ScratchDatabase("copy")
        defer { db.drop() }
        let root = try makeTemporaryDirectory("pg-copy")
        defer { removeTemporaryDirectory(root) }
        let a = root.appendingPathComponent("a"), back = root.appendingPathComponent("back")
        try FileManager.default.createDirectory(at: a, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: PackagePaths.root.appendingPathComponent("Tests/StoreTests/Fixtures/schema_v2.sqlite"),
                                         to: a.appendingPathComponent("swejepa.sqlite"))
        let there = try await run(bin, ["copy", "--from", "sqlite:" + a.path, "--to", db.url, "--page-rows", "3"])
        #expect(there.status == 0 && there.stdout.contains("copied and verified"), "\(there)")
        let again = try await run(bin, ["copy", "--from", db.url, "--to", "sqlite:" + back.path])
        #expect(again.status == 0 && again.stdout.contains("copied and verified"), "\(again)")
        // The per-table lines (rows and checksum) are the same in both directions.
        // (Not the heading "copying A → B: N rows in T tables", which names the two stores.)
        func table(_ out: String) -> [String] { lines(out).filter { $0.contains(" rows ") && !$0.contains("copying") } }
        #expect(!table(there.stdout).isEmpty && table(there.stdout) == table(again.stdout), "\(there.stdout)\n\(again.stdout)")
        #expect(!(there.stdout + there.stderr).contains("password"))
    }
}
