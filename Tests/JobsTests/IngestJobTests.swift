import Core
import Foundation
import Testing
@testable import Jobs
@testable import Store
import TestSupport

/// The corpus the ingest tests use, by four authors over four commits: bodies edited, a file renamed
/// (`util.py` → `tools.py`, with an edit), a method in a class. Returns the repository.
func buildIngestCorpus() throws -> ScratchRepo {
    let r = try ScratchRepo()
    func mod(alpha: String, beta: String, gamma: String) -> String {
        """
        import os


        def alpha(x):
            \"\"\"alpha docs.\"\"\"
            y = x + \(alpha)
            return y


        def beta(x):
            if x:
                return \(beta)
            return 2


        def gamma(x):
            for i in range(x):
                x += \(gamma)
            return x

        """
    }
    func util(u1: String, u2: String) -> String {
        "def u1(x):\n    return x * \(u1)\n\n\ndef u2(x):\n    z = x\n    return z * \(u2)\n"
    }
    try r.write("pkg/mod.py", mod(alpha: "1", beta: "1", gamma: "i"))
    try r.write("util.py", util(u1: "2", u2: "3"))
    try r.write("pkg/extra.py", "class K:\n    def delta(self, x):\n        return -x\n")
    try r.commit("initial", author: "Alice")
    try r.write("pkg/mod.py", mod(alpha: "1", beta: "10", gamma: "i"))
    try r.write("util.py", util(u1: "20", u2: "3"))
    try r.commit("edit beta and u1", author: "Bob")
    try r.git(["mv", "util.py", "tools.py"], author: "Carol")
    try r.write("tools.py", util(u1: "20", u2: "30"))
    try r.write("pkg/mod.py", mod(alpha: "1", beta: "10", gamma: "i * 2"))
    try r.commit("rename util to tools, edit u2 and gamma", author: "Carol")
    try r.write("pkg/mod.py", mod(alpha: "2", beta: "10", gamma: "i * 2"))
    try r.commit("edit alpha", author: "Alice")
    return r
}

/// The edit between the two ingests (Dave): beta's body changes, alpha keeps its text and place,
/// gamma is deleted, zeta is added; `tools.py` and `pkg/extra.py` are untouched.
func editIngestCorpus(_ r: ScratchRepo) throws {
    try r.write("pkg/mod.py", """
        import os


        def alpha(x):
            \"\"\"alpha docs.\"\"\"
            y = x + 2
            return y


        def beta(x):
            if x:
                return 100
            return 2


        def zeta(x, y):
            return x - y

        """)
    try r.commit("edit beta, drop gamma, add zeta", author: "Dave")
}

/// The `ingest` job run by an in-process `JobRunner` over a real SQLite file, on a real git repository
/// built with the `git` CLI. Checked against: the expected created/updated/unchanged/removed counts of
/// a known edit, the stale flags and rows of the `vectors` table, and the history counts that
/// `git log -L` (and `git log --follow` for files) computes for each function.
@Suite struct IngestJobTests {
    /// Runs one ingest job to its end (bounded polling) and returns its result.
    static func ingest(_ runner: JobRunner, _ params: JSONValue) async throws -> JSONValue {
        let job = try await runner.submit(type: "ingest", params: params)
        let store = runner.store
        #expect(try await eventually(120) { try await store.job(id: job.id)?.state.isFinal == true })
        let done = try #require(try await store.job(id: job.id))
        #expect(done.state == .succeeded, "\(done.error ?? "")")
        return try #require(done.result)
    }

    static func counts(_ result: JSONValue) -> [String: Int] {
        var out = [String: Int]()
        for k in ["files", "functions", "created", "updated", "unchanged", "removed", "commits"] { out[k] = result[k]?.intValue ?? -1 }
        return out
    }

    /// Every stored function of `repo` by qualified name.
    static func stored(_ store: any StoreBackend, repo: String) async throws -> [String: FunctionRecord] {
        let all = try await store.functions(FunctionQuery(repo: repo, limit: 1000))
        return Dictionary(uniqueKeysWithValues: all.map { ($0.qualifiedName, $0) })
    }

    /// Stored history properties equal `git log -L` over each function's stored span, and
    /// `file_commits` equals `git log --follow`; returns the (commits, authors) found per name.
    static func checkHistory(_ r: ScratchRepo, _ functions: [String: FunctionRecord]) throws -> [String: [Int]] {
        var seen = [String: [Int]]()
        for (name, f) in functions {
            let ref = try r.logL(path: f.path, start: f.startLine, end: f.endLine)
            let got = [f.properties["commits"]?.intValue ?? -1, f.properties["authors"]?.intValue ?? -1]
            #expect(got == [ref.commits, ref.authors], "\(f.path) \(name) \(f.startLine)-\(f.endLine): stored \(got), git log -L \(ref)")
            #expect(f.properties["file_commits"]?.intValue == (try r.fileCommits(f.path)), "\(f.path) file_commits")
            seen[name] = got
        }
        return seen
    }

    /// `function_id → stale` for every vector row of the space, read straight from the table.
    static func staleFlags(_ db: TestStore, space: String) throws -> [Int64: Int64] {
        let sql = "SELECT v.function_id, v.stale FROM vectors v JOIN spaces s ON s.id = v.space_id WHERE s.name = ?"
        var out = [Int64: Int64]()
        if let sqlite = db.store as? SQLiteStore {
            try SQLiteConnection(path: sqlite.path).query(sql, [.text(space)]) { out[$0.int(0)] = $0.int(1) }
        } else {
            try db.adminConnection().query(sql, [.text(space)]) { out[$0.int(0)] = $0.int(1) }
        }
        return out
    }

    @Test(arguments: Backend.all) func ingestThenReingestAfterAnEdit(_ backend: Backend) async throws {
        let r = try buildIngestCorpus()
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open())
        runner.start()
        let store = runner.store
        let params: JSONValue = ["path": .string(r.root.path), "name": "demo"]

        // First ingest: everything is new; history matches git.
        let first = try await Self.ingest(runner, params)
        #expect(Self.counts(first) == ["files": 3, "functions": 6, "created": 6, "updated": 0, "unchanged": 0, "removed": 0, "commits": 4])
        #expect(first["history"] == true && first["repo"] == "demo")
        let before = try await Self.stored(store, repo: "demo")
        #expect(Set(before.keys) == ["alpha", "beta", "gamma", "K.delta", "u1", "u2"])
        #expect(before["u1"]?.path == "tools.py" && before["K.delta"]?.path == "pkg/extra.py")
        let history1 = try Self.checkHistory(r, before)
        // The corpus exercises real histories: edits by several authors and across the rename.
        #expect(history1["beta"] == [2, 2] && history1["alpha"] == [2, 1] && history1["u2"] == [2, 2] && history1["K.delta"] == [1, 1])
        let repos = try await store.repositories()
        #expect(repos.map(\.name) == ["demo"] && repos.first?.functions == 6)
        #expect(repos.first?.path == r.root.standardizedFileURL.path)

        // Ingesting the same tree again changes nothing.
        let again = try await Self.ingest(runner, params)
        #expect(Self.counts(again) == ["files": 3, "functions": 6, "created": 0, "updated": 0, "unchanged": 6, "removed": 0, "commits": 4])

        // Embeddings for every function, then the edit and the re-ingest.
        let names = before.keys.sorted()
        let ids = names.map { before[$0]!.id }
        _ = try await store.createSpace(SpaceInput(name: "s", kind: .bodyMean, dim: 2))
        try await store.upsertVectors(space: "s", VectorBatch(ids: ids, values: ids.flatMap { [Float($0), Float($0) + 0.5] }))
        #expect(try Self.staleFlags(db, space: "s").values.allSatisfy { $0 == 0 })

        try editIngestCorpus(r)
        let second = try await Self.ingest(runner, params)
        // alpha: same text, but its file's commit count moved (a properties-only update); beta: new body;
        // u1, u2, K.delta: untouched; gamma: gone; zeta: new.
        #expect(Self.counts(second) == ["files": 3, "functions": 6, "created": 1, "updated": 2, "unchanged": 3, "removed": 1, "commits": 5])
        let after = try await Self.stored(store, repo: "demo")
        #expect(Set(after.keys) == ["alpha", "beta", "zeta", "K.delta", "u1", "u2"])
        for name in ["alpha", "beta", "K.delta", "u1", "u2"] { #expect(after[name]?.id == before[name]?.id, "\(name) keeps its id") }
        #expect(after["beta"]?.body.contains("return 100") == true)
        #expect(after["alpha"]?.contentHash == before["alpha"]?.contentHash)
        #expect(try await store.function(id: before["gamma"]!.id) == nil)

        // Only beta's vector is stale (alpha's text did not change); gamma's vector went with it.
        let flags = try Self.staleFlags(db, space: "s")
        let expected: [Int64: Int64] = Dictionary(uniqueKeysWithValues: ["alpha", "beta", "K.delta", "u1", "u2"].map { (before[$0]!.id, $0 == "beta" ? 1 : 0) })
        #expect(flags == expected)
        let space = try #require(try await store.space(named: "s"))
        #expect(space.count == 5 && space.stale == 1)
        #expect(try await store.functionsMissingVectors(spaces: ["s"], repo: "demo") == [before["beta"]!.id, after["zeta"]!.id].sorted())
        // The stale vector keeps its values until it is recomputed.
        let betaID = before["beta"]!.id
        #expect(try await store.vectors(space: "s", ids: [betaID]).values == [Float(betaID), Float(betaID) + 0.5])
        await #expect(throws: (any Error).self) { try await store.vectors(space: "s", ids: [before["gamma"]!.id]) }

        // History after the edit still equals git's, and moved as expected.
        let history2 = try Self.checkHistory(r, after)
        #expect(history2["beta"] == [3, 3], "\(history2)")
        // zeta took gamma's lines, so git's line log follows it back into gamma's history (3 commits, 3 authors).
        #expect(history2["zeta"] == [3, 3] && history2["alpha"] == [2, 1] && history2["u1"] == [2, 2], "\(history2)")
        await runner.stop()
    }

    /// `history: false` stores no history properties; a plain directory (not a repository) ingests
    /// with `history: false` in its result; `skip_dirs` keeps a directory out.
    @Test(arguments: Backend.all) func historyOffAndPlainDirectories(_ backend: Backend) async throws {
        let r = try buildIngestCorpus()
        let plainRoot = try makeTemporaryDirectory("jobs-plain")
        defer { removeTemporaryDirectory(plainRoot) }
        let plain = plainRoot.appendingPathComponent("plain")
        try FileManager.default.createDirectory(at: plain.appendingPathComponent("tests"), withIntermediateDirectories: true)
        try Data("def f():\n    return 1\n".utf8).write(to: plain.appendingPathComponent("a.py"))
        try Data("def test_f():\n    assert True\n".utf8).write(to: plain.appendingPathComponent("tests/test_a.py"))
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open())
        runner.start()
        let store = runner.store

        let noHistory = try await Self.ingest(runner, ["path": .string(r.root.path), "name": "nohist", "history": false])
        #expect(noHistory["history"] == false && noHistory["commits"] == .null && noHistory["created"]?.intValue == 6)
        for f in try await Self.stored(store, repo: "nohist").values {
            #expect(f.properties["commits"] == nil && f.properties["authors"] == nil && f.properties["loc"] != nil)
        }
        let p = try await Self.ingest(runner, ["path": .string(plain.path), "name": "plain", "skip_dirs": ["tests"]])
        #expect(p["history"] == false && p["files"]?.intValue == 1 && p["created"]?.intValue == 1)
        #expect(Set(try await Self.stored(store, repo: "plain").keys) == ["f"])
        await #expect(throws: APIError.self) { try await runner.submit(type: "ingest", params: ["path": "/nonexistent/dir"]) }
        await runner.stop()
    }
}
