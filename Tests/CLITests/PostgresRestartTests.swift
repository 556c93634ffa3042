import Core
import Foundation
import TestSupport
import Testing

/// A PostgreSQL cluster of the test's own (scripts/pg-test-cluster.sh with its own state file): it can
/// be stopped and started again (`down`/`up`, same port) without disturbing other tests' cluster.
struct OwnCluster {
    let folder: URL
    let url: String
    static let script = PackagePaths.root.appendingPathComponent("scripts/pg-test-cluster.sh")
    static var available: Bool { which("initdb") != nil }

    init() async throws {
        folder = try makeTemporaryDirectory("pg-own")
        url = try await Self.run("start", folder).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server (fast shutdown: sessions are terminated), keeping the cluster.
    func down() async throws { _ = try await Self.run("down", folder) }
    /// Starts it again on the same port.
    func up() async throws { _ = try await Self.run("up", folder) }
    /// Stops it and deletes it.
    func remove() async {
        _ = try? await Self.run("stop", folder)
        removeTemporaryDirectory(folder)
    }

    @discardableResult
    static func run(_ command: String, _ folder: URL) async throws -> String {
        // The server started by `start`/`up` outlives the script: it must not hold the descriptors
        // through which `run` learns that the script ended, so every descriptor above 2 is closed first.
        let closeInherited = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null; exec bash "$0" "$1""#
        let out = try await CLITests.run(URL(fileURLWithPath: "/bin/bash"), ["-c", closeInherited, script.path, command],
                                         environment: ["SWEJEPA_PG_STATE": folder.appendingPathComponent("state").path], timeout: 120)
        guard out.status == 0 else { throw ServerProcess.Failure(description: "pg-test-cluster.sh \(command): \(out)") }
        return out.stdout
    }

    /// Whether initdb is installed (in PATH or under /usr/lib/postgresql).
    static func which(_ tool: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).map { "/usr/lib/postgresql/\($0)/bin" }
        return dirs.first { FileManager.default.isExecutableFile(atPath: $0 + "/" + tool) }
    }
}

/// PostgreSQL restarted under a running `swejepa serve`: during the outage writes answer 503
/// `store_unavailable` and reads and /healthz report it; nothing is half-applied (every batch a
/// client sent while the server went down is either wholly stored, when it was acknowledged, or not
/// at all); after the restart the same process answers writes and reads again, without a restart.
@Suite(.serialized, .enabled(if: SwejepaBinary.any != nil && OwnCluster.available, "needs initdb (postgresql) and the swejepa binary"))
struct PostgresRestartTests {
    let bin = SwejepaBinary.any!

    /// What the writing client sent (repository per batch) and the answers it got.
    final class Outcomes: Sendable {
        private let state = Mutex<(writing: Bool, answers: [(repo: String, status: Int)])>((true, []))
        var writing: Bool { state.withLock { $0.writing } }
        var all: [(repo: String, status: Int)] { state.withLock { $0.answers } }
        func add(_ repo: String, _ status: Int) { state.withLock { $0.answers.append((repo, status)) } }
        func stop() { state.withLock { $0.writing = false } }
    }

    static func batch(_ repo: String, _ n: Int) -> JSONValue {
        .object(["functions": .array((0..<n).map { i in .object([
            "repo": .string(repo), "path": "m.py", "qualified_name": .string("f\(i)"), "start_line": 1, "end_line": 2,
            "signature": .string("def f\(i)():"), "body": .string("    return \(i)  # \(repo)\n")]) })])
    }

    @Test func aRestartedServerIsReconnectedToAndWritesDuringTheOutageAre503AndLeaveNothing() async throws {
        let cluster = try await OwnCluster()
        let root = try makeTemporaryDirectory("pg-restart")
        defer { removeTemporaryDirectory(root) }
        let serve = try await ServerProcess(binary: bin, data: root.appendingPathComponent("data"), arguments: ["--db", cluster.url])
        defer { serve.kill9() }
        do {
            try await check(serve, cluster)
        } catch {
            Issue.record("\(error)\n--- serve log\n\(serve.output)")
        }
        serve.kill9()
        await cluster.remove()
    }

    func check(_ serve: ServerProcess, _ cluster: OwnCluster) async throws {
        // Before: functions, a space with vectors, a search.
        let made = try await serve.call("POST", "/v1/functions", json: Self.batch("before", 4))
        #expect(made.status == 200, "\(made.json as Any)")
        let ids = try #require(made.json?["ids"]?.arrayValue?.compactMap { $0.intValue.map(Int64.init) })
        #expect(try await serve.call("POST", "/v1/spaces", json: ["name": "s", "kind": "custom", "dim": 2, "metric": "l2"]).status == 201)
        func put(_ values: [[Double]]) async throws -> (status: Int, json: JSONValue?, body: Data) {
            try await serve.call("PUT", "/v1/spaces/s/vectors", json: .object([
                "ids": .array(ids.map { .number(Double($0)) }), "vectors": .array(values.map { .array($0.map { .number($0) }) })]))
        }
        let stored: [[Double]] = [[0, 0], [1, 0], [0, 1], [1, 1]]
        #expect(try await put(stored).status == 200)
        let search: JSONValue = ["vectors": [[0.9, 0.1]], "k": 2]
        #expect(try await serve.call("POST", "/v1/spaces/s/search", json: search).status == 200)

        // A client writing batches of 50 functions (each its own repository) all along.
        let outcomes = Outcomes()
        let writer = Task {
            var k = 0
            while outcomes.writing {
                let repo = "w\(k)"
                let status = (try? await serve.call("POST", "/v1/functions", json: Self.batch(repo, 50)).status) ?? -1
                outcomes.add(repo, status)
                k += 1
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        try await cluster.down()

        // The outage: writes are 503 store_unavailable, reads and /healthz say the store is unavailable.
        let write = try await serve.call("POST", "/v1/functions", json: Self.batch("outage", 30))
        #expect(write.status == 503 && write.json?["error"]?["code"]?.stringValue == "store_unavailable", "\(write.status) \(write.json as Any)")
        let vectors = try await put([[5, 5], [6, 6], [7, 7], [8, 8]])
        #expect(vectors.status == 503 && vectors.json?["error"]?["code"]?.stringValue == "store_unavailable", "\(vectors.status) \(vectors.json as Any)")
        let health = try await serve.call("GET", "/healthz")
        #expect(health.status == 503 && health.json?["error"]?["code"]?.stringValue == "store_unavailable", "\(health.status) \(health.json as Any)")
        let read = try await serve.call("GET", "/v1/functions/\(ids[0])")
        #expect(read.status == 503 && read.json?["error"]?["code"]?.stringValue == "store_unavailable", "\(read.status) \(read.json as Any)")
        try await Task.sleep(nanoseconds: 500_000_000)

        try await cluster.up()
        // The same process answers again, without a restart of its own.
        #expect(try await serve.poll(timeout: 60) { try await serve.call("GET", "/healthz").status == 200 })
        try await Task.sleep(nanoseconds: 500_000_000)
        outcomes.stop()
        await writer.value
        #expect(serve.process.isRunning)
        let after = try await serve.call("POST", "/v1/functions", json: Self.batch("after", 3))
        #expect(after.status == 200, "\(after.status) \(after.json as Any)")
        #expect(try await serve.call("GET", "/v1/functions/\(ids[0])").status == 200)
        let hits = try await serve.call("POST", "/v1/spaces/s/search", json: search)
        #expect(hits.json?["results"]?.arrayValue?.first?["hits"]?.arrayValue?.first?["id"]?.intValue.map(Int64.init) == ids[1])

        // Nothing half-applied: the outage's batches left no function; the vectors are those stored before.
        let repos = try await serve.call("GET", "/v1/repos").json?["repos"]?.arrayValue ?? []
        var counts = [String: Int]()
        for r in repos { if let name = r["name"]?.stringValue { counts[name] = r["functions"]?.intValue ?? -1 } }
        #expect(counts["outage"] == nil, "\(counts)")
        #expect(counts["before"] == 4 && counts["after"] == 3, "\(counts)")
        let written = outcomes.all
        for (repo, status) in written {
            // Acknowledged: all 50 stored; refused (or cut off): none.
            #expect(counts[repo] == (status == 200 ? 50 : nil), "batch \(repo) answered \(status), stored \(counts[repo] ?? 0)")
        }
        #expect(written.contains { $0.status == 503 }, "a batch was refused during the outage: \(written.map(\.status))")
        #expect(written.last?.status == 200, "writes succeed again after the restart: \(written.map(\.status))")
        let back = try await serve.call("GET", "/v1/spaces/s/vectors").json
        let values = back?["vectors"]?.arrayValue?.map { $0.arrayValue?.compactMap(\.doubleValue) ?? [] }
        #expect(values == stored, "\(back as Any)")
    }
}
