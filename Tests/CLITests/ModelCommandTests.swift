import Core
import Foundation
import TestSupport
import Testing

/// `embed`, `probe` and `train` with the real teacher (all-MiniLM-L6-v2) on a small three-repository
/// corpus, through the CLI against a `swejepa serve` child process.
@Suite(.serialized, .enabled(if: SwejepaBinary.any != nil && modelDirectory != nil, "needs the built swejepa and SWEJEPA_MODEL_DIR"))
struct ModelCommandTests {
    @Test func embedThenProbeThenTrain() async throws {
        let bin = SwejepaBinary.any!
        let tmp = try makeTemporaryDirectory("cli-model")
        defer { removeTemporaryDirectory(tmp) }
        // Where the server looks for the default teacher: DATA/models/<name>.
        let data = try dataDirectoryWithModel(in: tmp)
        // SWEJEPA_MODEL_DIR pointed elsewhere: the server must find the model through DATA/models alone.
        let s = try await ServerProcess(binary: bin, data: data, environment: ["SWEJEPA_MODEL_DIR": "/nonexistent/all-MiniLM-L6-v2"])
        defer { s.kill9() }
        func swejepa(_ args: [String]) async throws -> Outcome { try await run(bin, args + ["--server", s.base]) }

        var total = 0
        for (i, name) in ["alpha", "beta", "gamma"].enumerated() {
            let src = try makeTemporaryDirectory("cli-" + name)
            defer { removeTemporaryDirectory(src) }
            try PythonFixture.write(["\(name).py": PythonFixture.module(name, count: 5 + i)], under: src)
            total += try await PythonFixture.defCount(under: src)
            let out = try await swejepa(["ingest", src.path, "--repo", name, "--no-history"])
            #expect(out.status == 0, "\(out)")
        }
        #expect(total == 5 + 6 + 7 + 3 * 3)

        // Embed layer 1, three kinds: one vector (or token matrix) per function in each space.
        let embed = try await swejepa(["embed", "--layers", "1", "--kinds", "sig_tokens,sig_mean,body_mean"])
        #expect(embed.status == 0, "\(embed)")
        #expect(lines(embed.stderr).last?.contains("100% succeeded") == true, "\(embed.stderr)")
        let spaces = try await s.call("GET", "/v1/spaces").json?["spaces"]?.arrayValue ?? []
        func space(_ name: String) -> JSONValue? { spaces.first { $0["name"]?.stringValue == name } }
        for kind in ["sig_mean", "body_mean"] {
            let sp = space("all-MiniLM-L6-v2.L1.\(kind)")
            #expect(sp?["count"]?.intValue == total && sp?["dim"]?.intValue == 384, "\(kind): \(sp?.jsonString() ?? "missing")")
        }
        #expect(space("all-MiniLM-L6-v2.L1.sig_tokens")?["count"]?.intValue == total)
        // Resumable: a second embed finds every function fresh.
        let again = try await swejepa(["embed", "--layers", "1", "--kinds", "sig_tokens,sig_mean,body_mean"])
        #expect(again.status == 0, "\(again)")
        // body_tokens only when named; --dtype sets the storage type of the spaces the job creates.
        #expect(space("all-MiniLM-L6-v2.L1.body_tokens") == nil)
        let tokens = try await swejepa(["embed", "--layers", "1", "--kinds", "body_tokens", "--dtype", "float32"])
        #expect(tokens.status == 0, "\(tokens)")
        let bt = try await s.call("GET", "/v1/spaces/all-MiniLM-L6-v2.L1.body_tokens").json
        #expect(bt?["dtype"] == "float32" && bt?["kind"] == "body_tokens" && bt?["count"]?.intValue == total, "\(bt?.jsonString() ?? "")")

        // Probe: one row per requested target over every function, grouped by repository.
        let probe = try await swejepa(["probe", "--space", "all-MiniLM-L6-v2.L1.body_mean", "--targets", "loc,is_async",
                                       "--folds", "3", "--json"])
        #expect(probe.status == 0, "\(probe)")
        let p = JSONValue.parse(probe.stdout)
        #expect(p?["n"]?.intValue == total && p?["groups"]?.intValue == 3, "\(probe.stdout)")
        let targets = Set((p?["results"]?.arrayValue ?? []).compactMap { $0["target"]?.stringValue })
        #expect(targets == ["loc", "is_async"], "\(probe.stdout)")
        let table = try await swejepa(["probe", "--space", "all-MiniLM-L6-v2.L1.body_mean", "--targets", "loc", "--folds", "3"])
        #expect(table.status == 0 && table.stdout.contains("· n \(total) · 3 folds grouped by repo (3 groups)"), "\(table)")
        #expect(lines(table.stdout).contains { $0.hasPrefix("loc ") && $0.contains("r2") }, "\(table)")

        // Train a tiny MLP for two epochs: the split covers every function, the student space exists.
        let train = try await swejepa(["train", "--input-space", "all-MiniLM-L6-v2.L1.sig_mean", "--target-space", "all-MiniLM-L6-v2.L1.body_mean",
                                       "--model", "mlp", "--mlp-hidden", "16", "--epochs", "2", "--batch-size", "8", "--patience", "0",
                                       "--output-space", "student.cli", "--json"])
        #expect(train.status == 0, "\(train)")
        let split = try #require(train.stdout.firstMatch(of: /functions (\d+) \(train (\d+), validation (\d+), test (\d+)\)/), "\(train)")
        #expect(Int(split.1) == total && Int(split.2)! + Int(split.3)! + Int(split.4)! == total, "\(train.stdout)")
        #expect(train.stdout.contains("student space student.cli"), "\(train.stdout)")
        let student = try await s.call("GET", "/v1/spaces/student.cli")
        #expect(student.status == 200 && (student.json?["count"]?.intValue ?? 0) > 0, "\(student.json?.jsonString() ?? "")")

        // A train job on a space that does not exist: the server's error, exit 1.
        let bad = try await swejepa(["train", "--input-space", "nope", "--target-space", "all-MiniLM-L6-v2.L1.body_mean"])
        #expect(bad.status == 1 && bad.stderr.contains("nope"), "\(bad)")
    }
}
