import Core
import Foundation
import TestSupport
import Testing

/// The `swejepa` client commands run as child processes against a `swejepa serve` child process:
/// exit codes, the values they print, progress as plain lines on a pipe and as a bar on a terminal,
/// and clear errors (not crashes) on bad input.
@Suite(.serialized, .enabled(if: SwejepaBinary.any != nil, "needs the built swejepa executable"))
struct CommandTests {
    let bin = SwejepaBinary.any!

    /// Runs `swejepa ARGS --server BASE` with pipes.
    func swejepa(_ server: ServerProcess, _ args: [String]) async throws -> Outcome {
        try await run(bin, args + ["--server", server.base])
    }

    /// Starts a server on a fresh data directory.
    func server(_ label: String, _ arguments: [String] = []) async throws -> ServerProcess {
        try await ServerProcess(binary: bin, data: try makeTemporaryDirectory("cli-" + label).appendingPathComponent("data"), arguments: arguments)
    }

    @Test func ingestCountsEveryDefOfADirectoryAndAGitHistory() async throws {
        let s = try await server("ingest")
        defer { s.kill9(); removeTemporaryDirectory(s.data.deletingLastPathComponent()) }
        let src = try makeTemporaryDirectory("cli-src")
        defer { removeTemporaryDirectory(src) }
        try PythonFixture.write(["app/core.py": PythonFixture.module("core", count: 6),
                                 "app/util/strings.py": PythonFixture.module("strings", count: 3),
                                 "notes.txt": "def not_python(): pass\n"], under: src)
        let expected = try await PythonFixture.defCount(under: src)
        #expect(expected == 6 + 3 + 2 * 3)  // the fixture is what the test thinks it is

        // Piped: the result as JSON on stdout, progress as plain lines on stderr.
        let piped = try await swejepa(s, ["ingest", src.path, "--repo", "fx", "--no-history"])
        #expect(piped.status == 0, "\(piped)")
        let result = try #require(JSONValue.parse(piped.stdout), "\(piped)")
        #expect(result["functions"]?.intValue == expected)
        #expect(result["files"]?.intValue == 2)
        #expect(result["repo"]?.stringValue == "fx")
        #expect(result["created"]?.intValue == expected)
        #expect(!piped.stderr.contains("\r") && !piped.stderr.contains("\u{1B}"), "no terminal control on a pipe: \(piped.stderr)")
        let progress = lines(piped.stderr)
        #expect(!progress.isEmpty && progress.allSatisfy { $0.range(of: #"^ingest +\d+% "#, options: .regularExpression) != nil }, "\(progress)")
        #expect(progress.last?.contains("100% stored") == true, "\(progress)")
        let listed = try await s.call("GET", "/v1/functions?repo=fx&limit=1000")
        #expect(listed.json?["functions"]?.arrayValue?.count == expected)

        // Re-ingesting is incremental: nothing new, everything unchanged.
        let again = try await swejepa(s, ["ingest", src.path, "--repo", "fx", "--no-history"])
        #expect(again.status == 0 && JSONValue.parse(again.stdout)?["unchanged"]?.intValue == expected, "\(again)")

        // A git repository: two commits, the second touching one function.
        let repo = try makeTemporaryDirectory("cli-git")
        defer { removeTemporaryDirectory(repo) }
        try await PythonFixture.gitRepository(at: repo)
        let git = try await swejepa(s, ["ingest", repo.path, "--repo", "gitfx"])
        #expect(git.status == 0, "\(git)")
        let gitResult = JSONValue.parse(git.stdout)
        #expect(gitResult?["functions"]?.intValue == 2 && gitResult?["history"] == .bool(true) && gitResult?["commits"]?.intValue == 2, "\(git)")
        let fns = try await s.call("GET", "/v1/functions?repo=gitfx").json?["functions"]?.arrayValue ?? []
        func commits(_ name: String) -> Int? {
            let f = fns.first { $0["qualified_name"]?.stringValue == name }
            return f?["properties"]?["commits"]?.intValue ?? f?["commits"]?.intValue
        }
        #expect(commits("changed") == 2 && commits("stable") == 1, "\(fns.map { $0.jsonString() })")
    }

    @Test func aTerminalGetsABarAndAPipeGetsLines() async throws {
        let s = try await server("tty")
        defer { s.kill9(); removeTemporaryDirectory(s.data.deletingLastPathComponent()) }
        let src = try makeTemporaryDirectory("cli-src")
        defer { removeTemporaryDirectory(src) }
        try PythonFixture.write(["m.py": PythonFixture.module("m", count: 4)], under: src)
        let tty = try await runOnTerminal(bin, ["ingest", src.path, "--repo", "t", "--server", s.base])
        #expect(tty.status == 0, "\(tty)")
        #expect(tty.stdout.contains("\r\u{1B}[K") && tty.stdout.contains("█"), "a redrawn bar on a terminal: \(tty.stdout.debugDescription)")
        #expect(!tty.stdout.contains(#"ingest 100% stored"#), "no plain progress lines on a terminal")
        #expect(JSONValue.parse(String(tty.stdout[tty.stdout.range(of: "{")!.lowerBound...]))?["functions"]?.intValue == 4 + 3)

        // A job followed through a pipe: plain lines only.
        let job = try await s.call("POST", "/v1/jobs", json: ["type": "sleep", "seconds": 0.2, "steps": 2])
        let id = try #require(job.json?["id"]?.intValue)
        let piped = try await swejepa(s, ["jobs", "watch", String(id)])
        #expect(piped.status == 0 && !piped.stderr.contains("█") && piped.stderr.contains("job \(id) 100% succeeded"), "\(piped)")
    }

    @Test func jobsWatchFollowsToTheEndAndFailsOnACancelledJob() async throws {
        let s = try await server("watch")
        defer { s.kill9(); removeTemporaryDirectory(s.data.deletingLastPathComponent()) }
        let queued = try await swejepa(s, ["jobs", "submit", "sleep", #"{"seconds": 0.5, "steps": 5}"#, "--no-wait"])
        #expect(queued.status == 0, "\(queued)")
        let id = try #require(queued.stdout.firstMatch(of: /job (\d+) queued/).map { Int($0.1)! }, "\(queued)")
        let watched = try await swejepa(s, ["jobs", "watch", String(id)])
        #expect(watched.status == 0, "\(watched)")
        let r = JSONValue.parse(watched.stdout)
        #expect(r?["steps"]?.intValue == 5 && r?["resumed_after"]?.intValue == -1, "\(watched)")

        // A long job cancelled while `jobs watch` follows it: watch exits non-zero and says so.
        let long = try await s.call("POST", "/v1/jobs", json: ["type": "sleep", "seconds": 600, "steps": 600])
        let longID = try #require(long.json?["id"]?.intValue)
        async let follower = swejepa(s, ["jobs", "watch", String(longID)])
        #expect(try await s.poll { try await s.call("GET", "/v1/jobs/\(longID)").json?["progress"]?.doubleValue ?? 0 > 0 })
        let cancel = try await swejepa(s, ["jobs", "cancel", String(longID)])
        #expect(cancel.status == 0 && cancel.stdout.contains("job \(longID): running (cancel requested)"), "\(cancel)")
        let followed = try await follower
        #expect(followed.status == 1 && followed.stderr.contains("job \(longID) cancelled"), "\(followed)")
    }

    @Test func badInputIsAClearErrorAndANonZeroExit() async throws {
        let s = try await server("errors")
        defer { s.kill9(); removeTemporaryDirectory(s.data.deletingLastPathComponent()) }
        // Unknown job: the server's 404 in words, exit 1.
        let unknown = try await swejepa(s, ["jobs", "watch", "987654"])
        #expect(unknown.status == 1 && unknown.stderr.contains("404") && unknown.stderr.contains("987654"), "\(unknown)")
        let show = try await swejepa(s, ["jobs", "show", "987654"])
        #expect(show.status == 1 && show.stderr.contains("404"), "\(show)")
        // An unknown job type: the server's 400 with the known types.
        let type = try await swejepa(s, ["jobs", "submit", "no_such_type"])
        #expect(type.status == 1 && type.stderr.contains("unknown_job_type") && type.stderr.contains("sleep"), "\(type)")
        // Bad flags and values: argument-parser's usage error (exit 64), nothing sent.
        let cases: [([String], String)] = [
            (["embed", "--layers", "three"], "--layers takes numbers or 'all'"),
            (["train", "--input-space", "a", "--target-space", "b", "--set", "novalue"], "--set takes key=value"),
            (["jobs", "submit", "sleep", "not json"], "params must be a JSON object"),
            (["jobs", "watch", "not-a-number"], "not-a-number"),
            (["probe", "--space", "x", "--no-such-flag"], "--no-such-flag"),
            (["ingest"], "path"),
        ]
        for (args, message) in cases {
            let out = try await swejepa(s, args)
            #expect(out.status == 64 && out.stderr.contains(message), "\(args): \(out)")
        }
        #expect(try await s.call("GET", "/v1/jobs").json?["jobs"]?.arrayValue?.isEmpty == true)
        // Server-side validation: a probe of a space that does not exist fails before anything is queued.
        let probe = try await swejepa(s, ["probe", "--space", "nope.L3.body_mean", "--folds", "1"])
        #expect(probe.status == 1 && probe.stderr.contains("400"), "\(probe)")
    }

    @Test func aServerThatIsDownIsNamedNotACrash() async throws {
        let base = "http://127.0.0.1:\(closedPort())"
        for args in [["jobs", "list"], ["jobs", "watch", "1"], ["ingest", "/tmp"], ["embed"]] {
            let out = try await run(bin, args + ["--server", base])
            #expect(out.status == 1 && out.stderr.contains("cannot reach \(base)") && out.stderr.contains("swejepa serve"), "\(args): \(out)")
        }
        let env = try await run(bin, ["jobs", "list"], environment: ["SWEJEPA_SERVER": base])
        #expect(env.status == 1 && env.stderr.contains("cannot reach \(base)"), "\(env)")
    }
}
