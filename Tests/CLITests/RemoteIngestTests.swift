import Core
import Foundation
import TestSupport
import Testing

/// `swejepa ingest PATH --server URL` against a server without ingest roots (it extracts here and
/// uploads each repository's snapshot) gives the rows an `ingest` job gives on a server that may read
/// PATH (`--ingest-root`, `--on-server`), and re-ingests incrementally the same way; tokens come from
/// a file or the environment, and `--auth reads` closes every read but /healthz. Real binary, real servers.
@Suite(.serialized, .enabled(if: SwejepaBinary.any != nil, "needs the built swejepa executable"))
struct RemoteIngestTests {
    let bin = SwejepaBinary.any!

    func server(_ label: String, _ arguments: [String] = [], environment: [String: String] = [:]) async throws -> ServerProcess {
        try await ServerProcess(binary: bin, data: try makeTemporaryDirectory("cli-" + label).appendingPathComponent("data"),
                                arguments: arguments, environment: environment)
    }

    /// Every function of a server keyed by repo/path/qualified name, without ids and times.
    func rows(_ s: ServerProcess) async throws -> [String: JSONValue] {
        var out = [String: JSONValue]()
        for f in try await s.call("GET", "/v1/functions?limit=1000").json?["functions"]?.arrayValue ?? [] {
            guard var o = f.objectValue else { continue }
            for k in ["id", "created_at", "updated_at"] { o[k] = nil }
            out["\(f["repo"]?.stringValue ?? "")|\(f["path"]?.stringValue ?? "")|\(f["qualified_name"]?.stringValue ?? "")"] = .object(o)
        }
        return out
    }

    func ids(_ s: ServerProcess) async throws -> [String: Int] {
        var out = [String: Int]()
        for f in try await s.call("GET", "/v1/functions?limit=1000").json?["functions"]?.arrayValue ?? [] {
            out["\(f["repo"]?.stringValue ?? "")|\(f["path"]?.stringValue ?? "")|\(f["qualified_name"]?.stringValue ?? "")"] = f["id"]?.intValue
        }
        return out
    }

    @Test func uploadingFromTheClientGivesTheRowsOfTheIngestJob() async throws {
        let base = try makeTemporaryDirectory("cli-remote-src")
        defer { removeTemporaryDirectory(base) }
        let src = base.appendingPathComponent("proj")
        try FileManager.default.createDirectory(at: src, withIntermediateDirectories: true)
        try await PythonFixture.gitRepository(at: src)
        try PythonFixture.write(["pkg/a.py": PythonFixture.module("a", count: 5), "tool.py": PythonFixture.module("tool", count: 2)], under: src)
        try await PythonFixture.git(src, ["add", "-A"])
        try await PythonFixture.git(src, ["commit", "-q", "-m", "third"])

        let job = try await server("remote-job", ["--ingest-root", base.path])
        let upload = try await server("remote-upload")
        defer {
            for s in [job, upload] { s.kill9(); removeTemporaryDirectory(s.data.deletingLastPathComponent()) }
        }
        let args = ["ingest", src.path, "--repo", "proj", "--split-top-level", "--skip-dirs", "tests"]
        func ingestBoth() async throws -> (JSONValue, JSONValue) {
            let a = try await run(bin, args + ["--on-server", "--server", job.base])
            let b = try await run(bin, args + ["--server", upload.base])
            #expect(a.status == 0 && b.status == 0, "\(a)\n\(b)")
            return (JSONValue.parse(a.stdout) ?? .null, JSONValue.parse(b.stdout) ?? .null)
        }
        func counts(_ r: JSONValue) -> [Int?] {
            ["files", "functions", "skipped_files", "created", "updated", "unchanged", "removed", "commits"].map { r[$0]?.intValue }
        }

        // The server without roots refuses to read the path itself.
        let refused = try await run(bin, args + ["--on-server", "--server", upload.base])
        #expect(refused.status == 1 && refused.stderr.contains("403 ingest_path_forbidden"), "\(refused)")

        let (first, firstUp) = try await ingestBoth()
        #expect(counts(first) == counts(firstUp) && first["created"]?.intValue ?? 0 > 10, "\(first)\n\(firstUp)")
        let before = try await rows(job)
        #expect(try await rows(upload) == before && before.count == first["functions"]?.intValue)
        #expect(before.values.contains { $0["properties"]?["commits"]?.intValue == 2 }, "history counts are uploaded")
        let repoNames = { (s: ServerProcess) in try await s.call("GET", "/v1/repos").json?["repos"]?.arrayValue?.map { [$0["name"], $0["functions"]] } }
        #expect(try await repoNames(job) == repoNames(upload))

        // Vectors for every function on both, then an edit: one body changes, a function goes, a file comes.
        let idsBefore = try await ids(upload)
        for s in [job, upload] {
            #expect(try await s.call("POST", "/v1/spaces", json: ["name": "sp", "kind": "body_mean", "dim": 2]).status == 201)
            let all = try await ids(s).values.sorted()
            let put = try await s.call("PUT", "/v1/spaces/sp/vectors", json: ["ids": .array(all.map { .number(Double($0)) }),
                                                                              "vectors": .array(all.map { [.number(Double($0)), 1] })])
            #expect(put.status == 200)
        }
        try PythonFixture.write(["lib.py": "def stable(a):\n    return a + 1\n\n\ndef changed(b):\n    return b * 3\n",
                                 "pkg/a.py": PythonFixture.module("a", count: 4), "pkg/b.py": "def fresh(x):\n    return x\n"], under: src)
        try await PythonFixture.git(src, ["add", "-A"])
        try await PythonFixture.git(src, ["commit", "-q", "-m", "fourth"])
        let (second, secondUp) = try await ingestBoth()
        #expect(counts(second) == counts(secondUp), "\(second)\n\(secondUp)")
        #expect(second["created"]?.intValue == 1 && second["removed"]?.intValue == 1 && second["unchanged"]?.intValue ?? 0 > 0, "\(second)")
        #expect(try await rows(upload) == rows(job))
        // Unchanged and changed functions kept their ids (and so their vectors); stale counts agree.
        let idsAfter = try await ids(upload)
        for (key, id) in idsAfter where idsBefore[key] != nil { #expect(idsBefore[key] == id, "\(key)") }
        let spJob = try await job.call("GET", "/v1/spaces/sp").json, spUp = try await upload.call("GET", "/v1/spaces/sp").json
        #expect(spUp?["count"] == spJob?["count"] && spUp?["stale"] == spJob?["stale"] && (spUp?["stale"]?.intValue ?? 0) > 0, "\(spJob ?? .null) \(spUp ?? .null)")
        #expect(spUp?["count"]?.intValue == idsBefore.count - 1)
    }

    @Test func tokensFromAFileOrTheEnvironmentAndAuthReads() async throws {
        let dir = try makeTemporaryDirectory("cli-token")
        defer { removeTemporaryDirectory(dir) }
        let file = dir.appendingPathComponent("token")
        try Data("from-file-token\n".utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)

        // --auth reads with --token-file: the token is not on the command line (ps), reads need it.
        let s = try await server("auth-reads", ["--auth", "reads", "--token-file", file.path])
        defer { s.kill9(); removeTemporaryDirectory(s.data.deletingLastPathComponent()) }
        let cmdline = (try? String(contentsOfFile: "/proc/\(s.process.processIdentifier)/cmdline", encoding: .utf8)) ?? ""
        #expect(!cmdline.isEmpty && !cmdline.contains("from-file-token"))
        #expect(try await s.call("GET", "/healthz").status == 200)
        #expect(try await s.call("GET", "/metrics").status == 401)
        #expect(try await s.call("GET", "/v1/jobs").status == 401)
        #expect(try await s.call("GET", "/v1/jobs", headers: ["Authorization": "Bearer from-file-token"]).status == 200)
        let none = try await run(bin, ["jobs", "list", "--server", s.base], environment: ["SWEJEPA_TOKEN": ""])
        #expect(none.status == 1 && none.stderr.contains("401"), "\(none)")
        let viaFile = try await run(bin, ["jobs", "list", "--server", s.base, "--token-file", file.path], environment: ["SWEJEPA_TOKEN": ""])
        #expect(viaFile.status == 0, "\(viaFile)")
        let viaEnv = try await run(bin, ["jobs", "list", "--server", s.base], environment: ["SWEJEPA_TOKEN": "from-file-token"])
        #expect(viaEnv.status == 0, "\(viaEnv)")
        let src = dir.appendingPathComponent("src")
        try PythonFixture.write(["m.py": PythonFixture.module("m", count: 2)], under: src)
        let ingest = try await run(bin, ["ingest", src.path, "--repo", "t", "--no-history", "--server", s.base, "--token-file", file.path])
        #expect(ingest.status == 0 && JSONValue.parse(ingest.stdout)?["created"]?.intValue == 2 + 3, "\(ingest)")

        // SWEJEPA_TOKEN for the server: writes need it, reads stay open (the default --auth writes).
        let e = try await server("auth-env", environment: ["SWEJEPA_TOKEN": "env-token"])
        defer { e.kill9(); removeTemporaryDirectory(e.data.deletingLastPathComponent()) }
        #expect(try await e.call("GET", "/v1/jobs").status == 200)
        #expect(try await e.call("POST", "/v1/jobs", json: ["type": "sleep", "seconds": 0.1]).status == 401)
        #expect(try await e.call("POST", "/v1/jobs", json: ["type": "sleep", "seconds": 0.1], headers: ["Authorization": "Bearer env-token"]).status == 202)

        // Refused at start: --auth reads without a token, both --token and --token-file, an empty file.
        let empty = dir.appendingPathComponent("empty")
        try Data("\n".utf8).write(to: empty)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: empty.path)
        let data = dir.appendingPathComponent("data").path
        for bad in [["--auth", "reads"], ["--token", "a", "--token-file", file.path], ["--token-file", empty.path], ["--auth", "everything", "--token", "a"]] {
            let out = try await run(bin, ["serve", "--data", data, "--port", "0"] + bad, environment: ["SWEJEPA_TOKEN": ""], timeout: 60)
            #expect(out.status == 64, "\(bad): \(out)")
        }

        // A token file others may read (world- or group-readable) is refused, by the server and by
        // clients, naming the fix; 0400 is as good as 0600.
        let open = dir.appendingPathComponent("open-token")
        try Data("from-file-token\n".utf8).write(to: open)
        for mode in [0o644, 0o640, 0o604] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: open.path)
            let out = try await run(bin, ["serve", "--data", data, "--port", "0", "--token-file", open.path], environment: ["SWEJEPA_TOKEN": ""], timeout: 60)
            #expect(out.status == 64 && out.stderr.contains("chmod 600") && !out.stdout.contains("listening"), "\(String(mode, radix: 8)): \(out)")
            let client = try await run(bin, ["jobs", "list", "--server", s.base, "--token-file", open.path], environment: ["SWEJEPA_TOKEN": ""])
            #expect(client.status == 64 && client.stderr.contains("chmod 600"), "\(String(mode, radix: 8)): \(client)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: open.path)
        let readOnly = try await run(bin, ["jobs", "list", "--server", s.base, "--token-file", open.path], environment: ["SWEJEPA_TOKEN": ""])
        #expect(readOnly.status == 0, "\(readOnly)")
    }
}
