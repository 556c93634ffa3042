import Core
import Foundation
import Testing
import TestSupport
@testable import Jobs
@testable import Server
import Store

private func modText(change: String, drop: Bool, fresh: Bool) -> String {
    var s = "def keep(a):\n    return a + 1\n\n\ndef change(a):\n    return a * \(change)\n"
    if drop { s += "\n\ndef drop(a):\n    return a - 1\n" }
    if fresh { s += "\n\ndef fresh(a, b):\n    return a + b\n" }
    return s
}

/// `POST /v1/repos` and `GET /v1/repos` on a real server over loopback (the `LiveServer` harness with
/// a job runner on the same store, as `swejepa serve` runs),
/// ingesting a real git repository twice around an edit. Checked against: the known
/// created/updated/unchanged/removed counts of the edit, the space's stale count and vector ids as
/// served, and `git log -L` for each served function's history properties.
@Suite struct ReposRouteTests {
    @Test(arguments: Backend.all) func ingestOverHTTPThenReingestAfterAnEdit(_ backend: Backend) async throws {
        let r = try ScratchRepo()
        let server = try await LiveServer(backend, jobs: .init(ingestRoots: [r.root.path]))
        defer { Task { await server.stop() } }

        try r.write("mod.py", modText(change: "2", drop: true, fresh: false))
        try r.write("other.py", "def stay():\n    return 0\n")
        try r.commit("initial", author: "Alice")
        try r.write("mod.py", modText(change: "3", drop: true, fresh: false))
        try r.commit("edit change", author: "Bob")
        try FileManager.default.createDirectory(at: r.root.appendingPathComponent("lib"), withIntermediateDirectories: true)
        try r.git(["mv", "other.py", "lib/other.py"], author: "Carol")
        try r.commit("move other.py", author: "Carol")

        /// Submits an ingest over HTTP and follows the job over HTTP to its end (bounded polling).
        func ingest() async throws -> JSONValue {
            let posted = try await server.call("POST", "/v1/repos", json: ["path": .string(r.root.path), "name": "web"])
            #expect(posted.status == 202 && posted.json?["type"] == "ingest" && posted.json?["state"] == "queued")
            let id = try #require(posted.json?["id"]?.intValue)
            var job: JSONValue?
            #expect(try await eventually(120) {
                job = try await server.call("GET", "/v1/jobs/\(id)").json
                return ["succeeded", "failed", "cancelled"].contains(job?["state"]?.stringValue ?? "")
            })
            #expect(job?["state"] == "succeeded", "\(job?["error"] ?? .null)")
            return try #require(job?["result"])
        }
        func counts(_ j: JSONValue) -> [Int] { ["created", "updated", "unchanged", "removed"].map { j[$0]?.intValue ?? -1 } }
        func functions() async throws -> [String: JSONValue] {
            let page = try await server.call("GET", "/v1/functions?repo=web&limit=1000")
            #expect(page.status == 200)
            var out: [String: JSONValue] = [:]
            for f in page.json?["functions"]?.arrayValue ?? [] { out[f["qualified_name"]?.stringValue ?? ""] = f }
            return out
        }
        func checkHistory(_ fs: [String: JSONValue]) throws {
            for (name, f) in fs {
                let path = f["path"]?.stringValue ?? "", start = f["start_line"]?.intValue ?? 0, end = f["end_line"]?.intValue ?? 0
                let served = [f["properties"]?["commits"]?.intValue ?? -1, f["properties"]?["authors"]?.intValue ?? -1]
                let log = try r.logL(path: path, start: start, end: end)
                #expect(served == [log.commits, log.authors], "\(name) \(path) \(start)-\(end)")
            }
        }

        let first = try await ingest()
        #expect(counts(first) == [4, 0, 0, 0] && first["commits"]?.intValue == 3 && first["files"]?.intValue == 2)
        let repos = try await server.call("GET", "/v1/repos").json?["repos"]?.arrayValue ?? []
        #expect(repos.count == 1 && repos.first?["name"] == "web" && repos.first?["functions"]?.intValue == 4)
        #expect(repos.first?["path"]?.stringValue == r.root.standardizedFileURL.path)
        let before = try await functions()
        #expect(Set(before.keys) == ["keep", "change", "drop", "stay"] && before["stay"]?["path"] == "lib/other.py")
        #expect(before["change"]?["properties"]?["commits"]?.intValue == 2 && before["change"]?["properties"]?["authors"]?.intValue == 2)
        try checkHistory(before)

        // Vectors for all four, over HTTP.
        #expect(try await server.call("POST", "/v1/spaces", json: ["name": "s", "kind": "body_mean", "dim": 2]).status == 201)
        let ids = before.values.compactMap { $0["id"]?.intValue }.sorted()
        let put = try await server.call("PUT", "/v1/spaces/s/vectors", json: [
            "ids": .array(ids.map { .number(Double($0)) }), "vectors": .array(ids.map { [.number(Double($0)), 1] })])
        #expect(put.status == 200 && put.json?["upserted"]?.intValue == 4)

        // Dave: change's body moves, drop goes, fresh arrives; keep's text stays (its file's commit count moves).
        try r.write("mod.py", modText(change: "4", drop: false, fresh: true))
        try r.commit("edit change, drop drop, add fresh", author: "Dave")
        let second = try await ingest()
        #expect(counts(second) == [1, 2, 1, 1] && second["commits"]?.intValue == 4)
        let after = try await functions()
        #expect(Set(after.keys) == ["keep", "change", "fresh", "stay"])
        #expect(after["change"]?["id"] == before["change"]?["id"] && after["keep"]?["id"] == before["keep"]?["id"])
        try checkHistory(after)
        #expect(after["change"]?["properties"]?["commits"]?.intValue == 3)

        let space = try await server.call("GET", "/v1/spaces/s").json
        #expect(space?["count"]?.intValue == 3 && space?["stale"]?.intValue == 1)
        let served = try await server.call("GET", "/v1/spaces/s/vectors").json
        let dropID = try #require(before["drop"]?["id"]?.intValue)
        #expect(served?["ids"]?.arrayValue?.compactMap(\.intValue) == ids.filter { $0 != dropID })
        #expect(try await server.call("GET", "/v1/functions/\(dropID)").status == 404)
        let listed = try await server.call("GET", "/v1/repos").json?["repos"]?.arrayValue ?? []
        #expect(listed.first?["functions"]?.intValue == 4)
    }

    @Test(arguments: Backend.all) func badIngestRequestsAreRefusedBeforeAJobExists(_ backend: Backend) async throws {
        let server = try await LiveServer(backend, jobs: .init(start: false))
        defer { Task { await server.stop() } }
        let store = server.store
        let file = server.dir.appendingPathComponent("swejepa.sqlite").path
        // No --ingest-root: every server path is refused alike (existing or not, file or directory).
        let cases: [(String, Int, String)] = [
            ("[1, 2]", 400, "invalid_json"),
            ("{}", 400, "invalid_parameter"),
            (#"{"path": "/nonexistent/swejepa/dir"}"#, 403, "ingest_path_forbidden"),
            (#"{"path": "\#(file)"}"#, 403, "ingest_path_forbidden"),
            (#"{"path": "\#(server.dir.path)"}"#, 403, "ingest_path_forbidden"),
            (#"{"path": "\#(server.dir.path)", "split": "by_file"}"#, 400, "invalid_parameter"),
            (#"{"path": "\#(server.dir.path)", "skip_dirs": "tests"}"#, 400, "invalid_parameter"),
            (#"{"path": "\#(server.dir.path)", "name": ""}"#, 400, "invalid_parameter"),
        ]
        for (body, status, code) in cases {
            let resp = try await server.call("POST", "/v1/repos", body: Data(body.utf8), contentType: "application/json")
            #expect(resp.status == status && resp.errorCode == code, "\(body): \(resp.status) \(resp.errorCode ?? "")")
        }
        #expect(try await store.jobs(state: nil, type: "ingest", limit: 10).isEmpty)
    }
}
