import Core
import Foundation
import Testing
import TestSupport
@testable import Jobs
@testable import Server
import Store

/// Who may make the server read its own files: `POST /v1/repos` and `ingest` jobs only under
/// `--ingest-root` directories (after resolving symbolic links), model and checkpoint names instead of
/// paths, and error texts that never name a server path. Real server over loopback, real files and links.
@Suite struct IngestRootTests {
    /// A root holding a repository, a file, a link to the repository (inside) and a link out of the
    /// root; and a directory outside every root with Python in it.
    final class Tree {
        let base: URL
        var root: URL { base.appendingPathComponent("root") }
        var outside: URL { base.appendingPathComponent("outside") }
        init() throws {
            base = try makeTemporaryDirectory("ingest-roots")
            let fm = FileManager.default
            for d in [root.appendingPathComponent("ok"), outside] { try fm.createDirectory(at: d, withIntermediateDirectories: true) }
            try Data("def f(x):\n    return x\n".utf8).write(to: root.appendingPathComponent("ok/m.py"))
            try Data("def secret():\n    return 42\n".utf8).write(to: outside.appendingPathComponent("s.py"))
            try Data("x = 1\n".utf8).write(to: root.appendingPathComponent("file.py"))
            try fm.createSymbolicLink(at: root.appendingPathComponent("inner"), withDestinationURL: root.appendingPathComponent("ok"))
            try fm.createSymbolicLink(at: root.appendingPathComponent("escape"), withDestinationURL: outside)
        }
        deinit { removeTemporaryDirectory(base) }
    }

    @Test(arguments: Backend.all) func onlyDirectoriesUnderAnIngestRootAreIngested(_ backend: Backend) async throws {
        let t = try Tree()
        let s = try await LiveServer(backend, jobs: .init(workers: 0, ingestRoots: [t.root.path]))
        defer { Task { await s.stop() } }
        func post(_ path: String, via route: String = "/v1/repos") async throws -> LiveServer.Response {
            let body: JSONValue = route == "/v1/repos" ? ["path": .string(path)] : ["type": "ingest", "path": .string(path)]
            return try await s.call("POST", route, json: body)
        }
        // Inside: the directory, and a link inside the root to a directory inside it.
        #expect(try await post(t.root.appendingPathComponent("ok").path).status == 202)
        #expect(try await post(t.root.appendingPathComponent("inner").path).status == 202)
        #expect(try await post(t.root.path).status == 202)
        // Out: a link inside the root pointing out, the outside itself (existing or not), a lexical
        // escape, a relative path, the server's own data directory; through both routes.
        let refused = [t.root.appendingPathComponent("escape").path, t.root.appendingPathComponent("escape/s.py").path,
                       t.outside.path, t.outside.appendingPathComponent("nope").path,
                       t.root.path + "/ok/../../outside", "ok", "../outside", s.dir.path, "/"]
        for path in refused {
            for route in ["/v1/repos", "/v1/jobs"] {
                let r = try await post(path, via: route)
                #expect(r.status == 403 && r.errorCode == "ingest_path_forbidden", "\(route) \(path): \(r.status) \(r.errorCode ?? "")")
                #expect(r.json?["error"]?["message"] == "path is not under an ingest root of this server", "\(path)")
            }
        }
        // Inside a root, a missing path or a file is the caller's mistake (400), still without naming it.
        for path in [t.root.appendingPathComponent("missing").path, t.root.appendingPathComponent("file.py").path] {
            let r = try await post(path)
            #expect(r.status == 400 && r.errorCode == "invalid_path", "\(path)")
            #expect(!String(decoding: r.body, as: UTF8.self).contains(t.base.path))
        }
        #expect(try await s.store.jobs(state: nil, type: "ingest", limit: 100).count == 3, "only the accepted ones were queued")
    }

    /// A job queued by a process with other roots (or stored directly) is checked again where it runs:
    /// a worker without the path under its roots fails it instead of reading it.
    @Test(arguments: Backend.all) func theRunningProcessChecksTheRootsAgain(_ backend: Backend) async throws {
        let t = try Tree()
        let s = try await LiveServer(backend, jobs: .init(workers: 1, ingestRoots: [t.root.path]))
        defer { Task { await s.stop() } }
        let smuggled = try await s.store.createJob(type: "ingest", params: ["path": .string(t.outside.path), "name": "smuggled"], maxAttempts: 1)
        s.runner?.notify()
        var job: JobRecord?
        #expect(try await eventually(60) {
            job = try await s.store.job(id: smuggled.id)
            return job?.state.isFinal == true
        })
        #expect(job?.state == .failed && job?.error == "path is not under an ingest root of this server", "\(job?.error ?? "")")
        #expect(try await s.call("GET", "/v1/functions?repo=smuggled").json?["functions"]?.arrayValue?.isEmpty == true)
    }

    /// Refusals of paths and names answer alike whatever exists, and no error body names the
    /// server's data directory or the home directory.
    @Test(arguments: Backend.all) func errorBodiesNameNoServerPath(_ backend: Backend) async throws {
        let t = try Tree()
        let s = try await LiveServer(backend, jobs: .init(workers: 0, ingestRoots: [t.root.path]))
        defer { Task { await s.stop() } }
        let data = s.dir.path, home = NSHomeDirectory()
        try FileManager.default.createDirectory(at: s.dir.appendingPathComponent("checkpoints/job-1"), withIntermediateDirectories: true)
        let requests: [(String, String, JSONValue)] = [
            ("POST", "/v1/repos", ["path": .string(data)]),
            ("POST", "/v1/repos", ["path": .string(home)]),
            ("POST", "/v1/repos", ["path": .string(t.root.appendingPathComponent("missing").path)]),
            ("POST", "/v1/jobs", ["type": "ingest", "path": .string(data + "/models")]),
            ("POST", "/v1/embed", ["texts": ["x"], "model": .string(data + "/models/all-MiniLM-L6-v2")]),
            ("POST", "/v1/embed", ["texts": ["x"], "model": .string(home)]),
            ("POST", "/v1/embed", ["texts": ["x"], "model": "no-such-model"]),
            ("POST", "/v1/jobs", ["type": "embed", "layers": [1], "model": .string(home)]),
            ("POST", "/v1/jobs", ["type": "layer_sweep", "model": "../../etc"]),
            ("POST", "/v1/predict", ["checkpoint": "job-1", "signatures": ["def f():"]]),
            ("POST", "/v1/predict", ["checkpoint": "job-2", "signatures": ["def f():"]]),
            ("POST", "/v1/predict", ["checkpoint": .string(home), "signatures": ["def f():"]]),
            ("POST", "/v1/predict", ["checkpoint": "../../", "signatures": ["def f():"]]),
            ("POST", "/v1/predict", ["job_id": 99, "signatures": ["def f():"]]),
        ]
        for (method, path, body) in requests {
            let r = try await s.call(method, path, json: body)
            let text = String(decoding: r.body, as: UTF8.self)
            #expect((400..<500).contains(r.status), "\(path) \(body.jsonString()): \(text)")
            #expect(!text.contains(data) && !text.contains(home), "\(path) \(body.jsonString()) names a server path: \(text)")
        }
        // The model answers alike for a path that exists and one that does not.
        let a = try await s.call("POST", "/v1/embed", json: ["texts": ["x"], "model": .string(data)])
        let b = try await s.call("POST", "/v1/embed", json: ["texts": ["x"], "model": .string(data + "/nope")])
        #expect(a.status == 400 && a.body == b.body && a.errorCode == "invalid_model")
    }

    /// `PUT /v1/repos/snapshot`: a whole repository in one transaction, with the ingest job's
    /// incremental rules; a bad snapshot changes nothing.
    @Test(arguments: Backend.all) func aSnapshotReplacesARepositoryAtomically(_ backend: Backend) async throws {
        let s = try await LiveServer(backend, jobs: .init(workers: 0))
        defer { Task { await s.stop() } }
        func fn(_ name: String, _ body: String, repo: String = "up/pkg") -> JSONValue {
            ["repo": .string(repo), "path": "a.py", "qualified_name": .string(name), "start_line": 1, "end_line": 2,
             "signature": .string("def \(name)():"), "body": .string(body), "properties": ["loc": 2]]
        }
        let first = try await s.call("PUT", "/v1/repos/snapshot",
                                     json: ["name": "up/pkg", "path": "/client/src/pkg", "functions": [fn("keep", "    return 1\n"), fn("change", "    return 2\n"), fn("drop", "    return 3\n")]])
        #expect(first.status == 200 && first.json?["created"] == 3 && first.json?["removed"] == 0, "\(String(decoding: first.body, as: UTF8.self))")
        let ids = (first.json?["ids"]?.arrayValue ?? []).compactMap(\.intValue)
        try #require(ids.count == 3)
        #expect(try await s.call("POST", "/v1/spaces", json: ["name": "sp", "kind": "body_mean", "dim": 2]).status == 201)
        #expect(try await s.call("PUT", "/v1/spaces/sp/vectors", json: ["ids": .array(ids.map { .number(Double($0)) }),
                                                                          "vectors": [[1, 0], [0, 1], [1, 1]]]).status == 200)
        // A snapshot with a function of another repository, or a repeated key: 422 (rules between
        // fields); an empty or missing name: 400. Nothing changes.
        for (i, bad): (Int, JSONValue) in [["name": "up/pkg", "functions": [fn("keep", "    return 1\n"), fn("x", "", repo: "other")]],
                               ["name": "up/pkg", "functions": [fn("keep", "    return 1\n"), fn("keep", "    return 9\n")]],
                               ["name": "", "functions": []], ["functions": []]].enumerated() {
            let r = try await s.call("PUT", "/v1/repos/snapshot", json: bad)
            #expect(r.status == (i < 2 ? 422 : 400), "\(String(decoding: r.body, as: UTF8.self))")
        }
        #expect(try await s.call("GET", "/v1/functions?repo=up%2Fpkg").json?["functions"]?.arrayValue?.count == 3)
        // Re-upload: keep unchanged, change changed, drop gone, fresh new.
        let second = try await s.call("PUT", "/v1/repos/snapshot",
                                      json: ["name": "up/pkg", "functions": [fn("keep", "    return 1\n"), fn("change", "    return 22\n"), fn("fresh", "    return 4\n")]])
        #expect(["created", "updated", "unchanged", "removed"].map { second.json?[$0]?.intValue } == [1, 1, 1, 1])
        let again = (second.json?["ids"]?.arrayValue ?? []).compactMap(\.intValue)
        #expect(Array(again.prefix(2)) == Array(ids.prefix(2)), "unchanged and changed keep their ids")
        let space = try await s.call("GET", "/v1/spaces/sp").json
        #expect(space?["count"]?.intValue == 2 && space?["stale"]?.intValue == 1)
        #expect(try await s.call("GET", "/v1/functions/\(ids[2])").status == 404)
        let repos = try await s.call("GET", "/v1/repos").json?["repos"]?.arrayValue ?? []
        #expect(repos.first { $0["name"] == "up/pkg" }?["path"] == "/client/src/pkg")
        // An empty snapshot empties the repository.
        let empty = try await s.call("PUT", "/v1/repos/snapshot", json: ["name": "up/pkg", "functions": []])
        #expect(empty.status == 200 && empty.json?["removed"] == 3)
    }
}
