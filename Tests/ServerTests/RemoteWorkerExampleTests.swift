import Core
import Foundation
import Testing
import TestSupport
@testable import Server

/// `examples/remote_worker.py` run for real (python3 with requests and numpy, as `make test` installs
/// them) against a live server with the real teacher and its own job runner running: the worker claims
/// a remote-only `embed` job, fetches the texts, computes through `POST /v1/embed`, uploads `.npy` and
/// completes the job; the vectors it stored are the teacher's.
@Suite(.serialized) struct RemoteWorkerExampleTests {
    static let model = PackagePaths.modelDirectory(holding: "model.safetensors")

    @Test(.enabled(if: model != nil, "needs the teacher model"), arguments: Backend.all)
    func exampleRemoteWorkerCompletesAnEmbedJob(_ backend: Backend) async throws {
        let token = "example-token"
        let s = try await LiveServer(backend, model: try #require(Self.model), jobs: .init(workers: 1)) { $0.token = token }
        defer { Task { await s.stop() } }
        let auth = ["Authorization": "Bearer \(token)"]
        let names = ["add", "scale", "greet"], ops = ["+", "*", "%"]
        var functions: [JSONValue] = []
        for i in 0..<3 {
            let f: [String: JSONValue] = ["repo": "demo", "path": "m.py", "qualified_name": .string(names[i]),
                                          "start_line": .number(Double(1 + 3 * i)), "end_line": .number(Double(2 + 3 * i)),
                                          "signature": .string("def \(names[i])(a, b):"), "body": .string("    return a \(ops[i]) b\n")]
            functions.append(.object(f))
        }
        let ids = try #require(try await s.call("POST", "/v1/functions", json: ["functions": .array(functions)], headers: auth).json?["ids"]?.arrayValue)
        let job = try await s.call("POST", "/v1/jobs", json: ["type": "embed", "remote": true, "layers": [3], "kinds": ["body_mean"]], headers: auth)
        let id = try #require(job.json?["id"]?.intValue)

        let script = PackagePaths.root.appendingPathComponent("examples/remote_worker.py").path
        let (status, output) = try await runProcess("/usr/bin/env", ["python3", script, "--server", s.base, "--token", token,
                                                                     "--worker", "example-1", "--lease", "30", "--once"])
        #expect(status == 0, "remote_worker.py: \(output)")
        #expect(output.contains("job \(id) (embed, attempt 1 of 3)") && output.contains("succeeded"), "\(output)")

        let done = try #require(try await s.call("GET", "/v1/jobs/\(id)").json)
        #expect(done["state"] == "succeeded" && done["worker"] == "remote:example-1", "\(done.jsonString())")
        #expect(done["result"]?["functions"] == 3 && done["result"]?["spaces"] == ["all-MiniLM-L6-v2.L3.body_mean"])
        let logs = try await s.call("GET", "/v1/jobs/\(id)/logs").json?["logs"]?.arrayValue ?? []
        #expect(logs.first?["message"] == "attempt 1 of 3 on remote:example-1")
        #expect(try await s.call("GET", "/v1/jobs/\(id)/metrics").json?["series"]?["functions_per_second"] != nil)

        // The stored vectors are the teacher's for signature + "\n" + body, in id order.
        let stored = try #require(try await s.call("GET", "/v1/spaces/all-MiniLM-L6-v2.L3.body_mean/vectors").json)
        #expect(stored["ids"]?.arrayValue == ids)
        let texts: [JSONValue] = (0..<3).map { i in .string("def \(names[i])(a, b):\n    return a \(ops[i]) b\n") }
        let expected = try #require(try await s.call("POST", "/v1/embed", json: ["texts": .array(texts), "layer": 3], headers: auth).json?["vectors"]?.arrayValue)
        let got = try #require(stored["vectors"]?.arrayValue)
        #expect(got.count == 3 && expected.count == 3)
        for (g, e) in zip(got, expected) {
            let a = (g.arrayValue ?? []).compactMap(\.doubleValue), b = (e.arrayValue ?? []).compactMap(\.doubleValue)
            #expect(a.count == 384 && b.count == 384)
            #expect(zip(a, b).map { abs($0 - $1) }.max() ?? 1 < 1e-4)
        }
        // Nothing more to do: a second run finds no job.
        let (again, quiet) = try await runProcess("/usr/bin/env", ["python3", script, "--server", s.base, "--token", token, "--once"])
        #expect(again == 0 && quiet.contains("no job"), "\(quiet)")
    }

    /// Runs a process to its end off the cooperative pool; its exit status and its stdout + stderr.
    func runProcess(_ executable: String, _ arguments: [String]) async throws -> (Int32, String) {
        try await withCheckedThrowingContinuation { c in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = arguments
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            p.terminationHandler = { p in
                let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                c.resume(returning: (p.terminationStatus, out))
            }
            do { try p.run() } catch { c.resume(throwing: error) }
        }
    }
}
