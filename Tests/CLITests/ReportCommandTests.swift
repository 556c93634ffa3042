import Core
import Foundation
import TestSupport
import Testing

/// `swejepa report` against a `swejepa serve` child process with the real teacher: before any probe or
/// student it says so; after a real probe job and a real train job its tables carry the API's figures,
/// and its nearest-neighbour example is the API's search answer for the function it names, with code.
@Suite(.serialized, .enabled(if: SwejepaBinary.any != nil && modelDirectory != nil, "needs the built swejepa and SWEJEPA_MODEL_DIR"))
struct ReportCommandTests {
    /// 48 small functions over three repositories and four files, bodies of 2 to 9 lines.
    static var functions: JSONValue {
        var out = [JSONValue]()
        let verbs = ["load", "save", "parse", "render", "count", "merge", "split", "check"]
        let nouns = ["config", "table", "record", "header", "token", "path"]
        for i in 0..<48 {
            let name = "\(verbs[i % verbs.count])_\(nouns[(i / verbs.count) % nouns.count])"
            let body = (0..<(2 + i % 8)).map { "    step_\($0) = \(name)_\($0)(value, \(i * $0))" }.joined(separator: "\n") + "\n    return value\n"
            out.append(["repo": .string(["alpha", "beta", "gamma"][i % 3]), "path": .string("pkg/m\(i % 4).py"), "qualified_name": .string(name),
                        "start_line": .number(Double(1 + 12 * i)), "end_line": .number(Double(12 * i + 4 + i % 8)),
                        "signature": .string("def \(name)(value):"), "body": .string(body),
                        "properties": ["loc": .number(Double(3 + i % 8))]])
        }
        return ["functions": .array(out)]
    }

    @Test func printsProbesStudentsAndANeighbourExampleAsTheAPIHasThem() async throws {
        let bin = SwejepaBinary.any!
        let tmp = try makeTemporaryDirectory("cli-report")
        defer { removeTemporaryDirectory(tmp) }
        let data = try dataDirectoryWithModel(in: tmp)
        let s = try await ServerProcess(binary: bin, data: data)
        defer { s.kill9() }
        func swejepa(_ args: [String]) async throws -> Outcome { try await run(bin, args + ["--server", s.base]) }
        func job(_ params: JSONValue) async throws -> JSONValue {
            let submitted = try await s.call("POST", "/v1/jobs", json: params)
            let id = try #require(submitted.json?["id"]?.intValue, "\(submitted.json?.jsonString() ?? "")")
            var last = JSONValue.null
            let ended = try await s.poll {
                last = try await s.call("GET", "/v1/jobs/\(id)").json ?? .null
                return ["succeeded", "failed", "cancelled"].contains(last["state"]?.stringValue ?? "")
            }
            #expect(ended && last["state"]?.stringValue == "succeeded", "\(last.jsonString())")
            return last
        }

        let up = try await s.call("POST", "/v1/functions", json: Self.functions)
        #expect(up.status == 200, "\(up.json?.jsonString() ?? "")")
        _ = try await job(["type": "embed", "layers": [1], "kinds": ["sig_mean", "body_mean"]])
        let sig = "all-MiniLM-L6-v2.L1.sig_mean", body = "all-MiniLM-L6-v2.L1.body_mean"

        // Nothing analysed yet: said, not an error.
        let empty = try await swejepa(["report", "--space", body])
        #expect(empty.status == 0 && empty.stdout.contains("no probe results yet") && empty.stdout.contains("no trained students yet"), "\(empty)")

        _ = try await job(["type": "probe", "space": .string(body), "targets": ["loc"], "folds": 2, "group_by": "function"])
        let train = try await job(["type": "train", "input_space": .string(sig), "target_space": .string(body), "model": "mlp",
                                   "loss": "infonce", "epochs": 2, "output_space": "student.report_test"])
        let report = try await swejepa(["report", "-k", "2"])
        #expect(report.status == 0, "\(report)")
        let out = lines(report.stdout)

        // The probe row: the stored result's mean ± std.
        let probe = try #require(try await s.call("GET", "/v1/probes").json?["probes"]?.arrayValue?.first)
        let probeRow = try #require(out.first { $0.hasPrefix("loc ") }, "\(report.stdout)")
        #expect(probeRow.contains(String(format: "%.3f ± %.3f", probe["mean"]?.doubleValue ?? .nan, probe["std"]?.doubleValue ?? .nan))
                && probeRow.hasSuffix(body), "\(probeRow)")

        // The leaderboard row: the job's test figures.
        let test = try #require(train["result"]?["test"])
        let trainID = try #require(train["id"]?.intValue)
        let row = try #require(out.first { $0.hasPrefix("\(trainID) ") }, "\(report.stdout)")
        for key in ["rank1", "rank10", "mrr"] {
            #expect(row.contains(String(format: "%.3f", test[key]?.doubleValue ?? .nan)), "\(key): \(row)")
        }
        #expect(row.contains("mlp") && row.contains("sig_mean → body_mean"), "\(row)")

        // The example: in the best student's target space, the API's neighbours of the function it names, in order.
        let header = try #require(out.first { $0.hasPrefix("== nearest neighbours in \(body) of ") }, "\(report.stdout)")
        let id = try #require(header.split(separator: " ").last.flatMap { Int($0.dropLast()) }, "\(header)")
        let answer = try await s.call("POST", "/v1/spaces/\(body)/search", json: ["function_ids": [.number(Double(id))], "k": 2])
        let hits = answer.json?["results"]?.arrayValue?.first?["hits"]?.arrayValue ?? []
        #expect(hits.count == 2)
        let table = out.drop { !$0.hasPrefix("score") }.filter { $0.first?.isNumber == true }
        #expect(table.count == hits.count, "\(report.stdout)")
        for (line, hit) in zip(table, hits) {
            let f = try await s.call("GET", "/v1/functions/\(hit["id"]?.intValue ?? 0)").json
            #expect(line.hasPrefix(String(format: "%.4f", hit["score"]?.doubleValue ?? .nan))
                    && line.contains(f?["qualified_name"]?.stringValue ?? "?"), "\(line)")
        }
        let query = try await s.call("GET", "/v1/functions/\(id)").json
        let bodyLines = (query?["body"]?.stringValue ?? "").split(separator: "\n").count
        #expect((4...12).contains(bodyLines))
        #expect(report.stdout.contains("    ▸ \(query?["signature"]?.stringValue ?? "?")"), "\(report.stdout)")
    }
}
