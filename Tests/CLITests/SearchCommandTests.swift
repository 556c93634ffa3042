import Core
import Foundation
import TestSupport
import Testing

/// `swejepa search` against a `swejepa serve` child process with the real teacher: by text, by file,
/// by a stored function (id and REPO:PATH:NAME), as a table, with code and as JSON; mistakes exit 1
/// (the server's) or 64 (the command line's) with a message.
@Suite(.serialized, .enabled(if: SwejepaBinary.any != nil && modelDirectory != nil, "needs the built swejepa and SWEJEPA_MODEL_DIR"))
struct SearchCommandTests {
    @Test func searchByTextFileAndFunction() async throws {
        let bin = SwejepaBinary.any!
        let tmp = try makeTemporaryDirectory("cli-search")
        defer { removeTemporaryDirectory(tmp) }
        let data = try dataDirectoryWithModel(in: tmp)
        let s = try await ServerProcess(binary: bin, data: data)
        defer { s.kill9() }
        func swejepa(_ args: [String]) async throws -> Outcome { try await run(bin, args + ["--server", s.base]) }

        let functions: JSONValue = ["functions": [
            ["repo": "io", "path": "io/json.py", "qualified_name": "read_json", "start_line": 3, "end_line": 5,
             "signature": "def read_json(path):", "body": "    with open(path) as f:\n        return json.load(f)\n"],
            ["repo": "io", "path": "io/json.py", "qualified_name": "write_json", "start_line": 7, "end_line": 9,
             "signature": "def write_json(path, value):", "body": "    with open(path, \"w\") as f:\n        json.dump(value, f)\n"],
            ["repo": "util", "path": "util/files.py", "qualified_name": "load_json_file", "start_line": 12, "end_line": 14,
             "signature": "def load_json_file(filename):", "body": "    with open(filename) as handle:\n        return json.load(handle)\n"],
            ["repo": "util", "path": "util/math.py", "qualified_name": "mean", "start_line": 1, "end_line": 2,
             "signature": "def mean(values):", "body": "    return sum(values) / len(values)\n"],
        ]]
        let up = try await s.call("POST", "/v1/functions", json: functions)
        #expect(up.status == 200, "\(up.json?.jsonString() ?? "")")
        let ids = (up.json?["ids"]?.arrayValue ?? []).compactMap(\.intValue)
        let job = try await s.call("POST", "/v1/jobs", json: ["type": "embed", "layers": [1], "kinds": ["sig_mean", "body_mean"]])
        let jobID = try #require(job.json?["id"]?.intValue, "\(job.json?.jsonString() ?? "")")
        let done = try await s.poll { try await s.call("GET", "/v1/jobs/\(jobID)").json?["state"]?.stringValue == "succeeded" }
        #expect(done)
        let sig = "all-MiniLM-L6-v2.L1.sig_mean", body = "all-MiniLM-L6-v2.L1.body_mean"

        // A signature as the argument: a table, the function itself first with score 1.
        let table = try await swejepa(["search", "--space", sig, "def read_json(path):", "-k", "3"])
        #expect(table.status == 0, "\(table)")
        let rows = lines(table.stdout)
        #expect(rows.count == 4 && rows[0].hasPrefix("score") && rows[0].contains("location"), "\(table.stdout)")
        #expect(rows[1].hasPrefix("1.0000") && rows[1].contains("io/json.py:3") && rows[1].contains("read_json")
                && rows[1].contains("def read_json(path):"), "\(table.stdout)")

        // A whole function from a file, with the code of every hit.
        let snippet = tmp.appendingPathComponent("snippet.py")
        try "def mean(values):\n    return sum(values) / len(values)\n".write(to: snippet, atomically: true, encoding: .utf8)
        let code = try await swejepa(["search", "--space", body, "--file", snippet.path, "-k", "2", "--show-code"])
        #expect(code.status == 0, "\(code)")
        #expect(lines(code.stdout)[1].contains("util/math.py:1") && code.stdout.contains("│     return sum(values) / len(values)"), "\(code.stdout)")

        // JSON: the server's answer.
        let json = try await swejepa(["search", "--space", body, "--file", snippet.path, "-k", "2", "--json", "--repos", "io"])
        let answer = JSONValue.parse(json.stdout)
        let hits = answer?["results"]?.arrayValue?.first?["hits"]?.arrayValue ?? []
        #expect(json.status == 0 && hits.count == 2 && hits.allSatisfy { $0["repo"]?.stringValue == "io" }, "\(json)")

        // A stored function by REPO:PATH:NAME and by id, leaving out its own repository.
        let byName = try await swejepa(["search", "--space", body, "--function", "io:io/json.py:read_json", "--exclude-same-repo", "--json"])
        let named = JSONValue.parse(byName.stdout)?["results"]?.arrayValue?.first
        #expect(byName.status == 0 && named?["query"]?.intValue == ids[0], "\(byName)")
        #expect((named?["hits"]?.arrayValue ?? []).allSatisfy { $0["repo"]?.stringValue == "util" }, "\(byName.stdout)")
        #expect(named?["hits"]?.arrayValue?.first?["qualified_name"]?.stringValue == "load_json_file", "\(byName.stdout)")
        let byID = try await swejepa(["search", "--space", body, "--function", String(ids[0]), "--exclude-same-repo", "--json"])
        #expect(JSONValue.parse(byID.stdout)?["results"] == JSONValue.parse(byName.stdout)?["results"], "\(byID)")

        // Mistakes: the command line's (64) and the server's (1), each with a message.
        let none = try await swejepa(["search", "--space", body])
        #expect(none.status == 64 && none.stderr.contains("exactly one of"), "\(none)")
        let sameRepo = try await swejepa(["search", "--space", body, "def f():", "--exclude-same-repo"])
        #expect(sameRepo.status == 64 && sameRepo.stderr.contains("--exclude-same-repo needs --function"), "\(sameRepo)")
        let missing = try await swejepa(["search", "--space", body, "--function", "io:io/json.py:nope"])
        #expect(missing.status == 1 && missing.stderr.contains("no function nope"), "\(missing)")
        let unknown = try await swejepa(["search", "--space", "nope", "def f():"])
        #expect(unknown.status == 1 && unknown.stderr.contains("unknown_space"), "\(unknown)")
        let help = try await run(bin, ["search", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--show-code") && help.stdout.contains("space_not_embeddable"), "\(help)")
    }
}
