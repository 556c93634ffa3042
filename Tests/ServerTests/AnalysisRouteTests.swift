import Core
import Foundation
import Jobs
import Store
import Testing
import TestSupport

/// `GET /v1/probes` and `GET /v1/spaces/{name}/neighbours` on a real server, with the results made
/// by real `probe` and `neighbours` jobs run by the server's job runner (started once the jobs are
/// queued); answers are compared with what the store holds.
@Suite struct AnalysisRouteTests {
    static func populate(_ store: any StoreBackend, n: Int = 60) async throws -> [Int64] {
        var inputs = [FunctionInput]()
        for i in 0..<n {
            let loc = 1 + (i * 7) % 23
            inputs.append(FunctionInput(repo: "r\(i % 3)", path: "m\(i % 4).py", qualifiedName: "f\(i)", startLine: 1, endLine: loc + 1,
                                        signature: "def f\(i)():", body: String(repeating: "    pass\n", count: loc),
                                        properties: ["loc": .number(Double(loc))], bodyHash: i < 10 ? "dup\(i / 2)" : nil))
        }
        let ids = try await store.upsertFunctions(inputs).ids
        let vectors = seededVectors(n, 8, seed: 11)
        var values = [Float]()
        for (i, v) in vectors.enumerated() {
            // Duplicate pairs (f0/f1, f2/f3, … in different repositories) share their vector, so each
            // is the other's nearest neighbour and the served `same_duplicate_group: true` is exercised.
            if i < 10 && i % 2 == 1 { values += values[((i - 1) * 8)..<(i * 8)]; continue }
            values += v.enumerated().map { j, x in j == 0 ? x + Float(log1p(Double(1 + (i * 7) % 23))) : x }
        }
        for name in ["t.L1.body_mean", "t.L2.body_mean"] {
            _ = try await store.createSpace(SpaceInput(name: name, model: "", layer: 1, kind: .bodyMean, dim: 8))
            try await store.upsertVectors(space: name, VectorBatch(ids: ids, values: values))
        }
        return ids
    }

    @Test(arguments: Backend.all) func storedProbesAndNeighboursAreServed(_ backend: Backend) async throws {
        let server = try await LiveServer(backend, jobs: .init(start: false))
        defer { Task { await server.stop() } }
        let store = server.store, runner = try #require(server.runner)
        let ids = try await Self.populate(store)
        let probe = try await runner.submit(type: "probe", params: ["space": "t.L1.body_mean", "targets": ["loc"], "group_by": "function", "folds": 3])
        let neighbours = try await runner.submit(type: "neighbours", params: ["space": "t.L1.body_mean", "k": 4])
        runner.start()
        let finished = try await eventually(120) {
            let a = try await store.job(id: probe.id)?.state.isFinal == true
            let b = try await store.job(id: neighbours.id)?.state.isFinal == true
            return a && b
        }
        #expect(finished)
        await runner.stop()
        let probeJob = try #require(try await store.job(id: probe.id))
        #expect(probeJob.state == .succeeded, "\(probeJob.error ?? "")")
        #expect(try await store.job(id: neighbours.id)?.state == .succeeded)

        // Probes: as stored, filtered, newest first.
        let listed = try await server.call("GET", "/v1/probes?space=t.L1.body_mean")
        #expect(listed.status == 200)
        let probes = try #require(listed.json?["probes"]?.arrayValue)
        #expect(probes.count == 1)
        #expect(probes[0]["target"] == "loc" && probes[0]["job_id"]?.intValue == Int(probe.id) && probes[0]["group_by"] == "function")
        let jobResult = try #require(probeJob.result?["results"]?.arrayValue?.first)
        let record = try #require(try await store.probeResults(ProbeQuery(space: "t.L1.body_mean")).first)
        // Served = stored = what the job reported; every field present (nil == nil must not pass).
        let servedMean = try #require(probes[0]["mean"]?.doubleValue)
        #expect(servedMean == record.mean && jobResult["mean"]?.doubleValue == record.mean)
        #expect(probes[0]["std"]?.doubleValue == record.std && probes[0]["id"]?.intValue == Int(record.id))
        let folds = try #require(jobResult["folds"]?.arrayValue)
        #expect(folds.count == 3 && folds.allSatisfy { $0.doubleValue != nil })
        #expect(probes[0]["result"]?["folds"]?.arrayValue == folds)
        // The job's mean is the mean of its fold scores.
        #expect(abs(folds.compactMap(\.doubleValue).reduce(0, +) / 3 - record.mean) < 1e-12)
        let shuffled = try #require(jobResult["controls"]?["shuffled"])
        #expect(shuffled["mean"]?.doubleValue != nil && probes[0]["result"]?["controls"]?["shuffled"] == shuffled)
        #expect(try await server.call("GET", "/v1/probes?space=t.L1.body_mean&target=commits").json?["probes"] == [])
        #expect(try await server.call("GET", "/v1/probes?job_id=\(probe.id)").json?["probes"]?.arrayValue?.count == 1)
        #expect(try await server.call("GET", "/v1/probes?space=t.L2.body_mean").json?["probes"] == [])
        for bad in ["/v1/probes?limit=0", "/v1/probes?job_id=abc", "/v1/probes?job_id=", "/v1/probes?limit=x"] {
            let r = try await server.call("GET", bad)
            #expect(r.status == 400 && r.errorCode == "invalid_parameter", "\(bad)")
        }

        // One function's list equals the stored rows, with names and duplicate flags.
        let one = try await server.call("GET", "/v1/spaces/t.L1.body_mean/neighbours?function_id=\(ids[0])")
        #expect(one.status == 200)
        #expect(one.json?["k"] == 4 && one.json?["exclude"] == "repo" && one.json?["job_id"]?.intValue == Int(neighbours.id))
        let list = try #require(one.json?["lists"]?.arrayValue?.first)
        #expect(list["function_id"]?.intValue == Int(ids[0]) && list["function"]?["qualified_name"] == "f0")
        let stored = try await store.neighbours(space: "t.L1.body_mean", functionID: ids[0])
        let served = try #require(list["neighbours"]?.arrayValue)
        #expect(served.compactMap { $0["id"]?.intValue.map(Int64.init) } == stored.map(\.neighbourID))
        #expect(served.compactMap { $0["score"]?.doubleValue } == stored.map(\.score))
        #expect(served.compactMap { $0["rank"]?.intValue } == [0, 1, 2, 3])
        // Each neighbour described as the store has it: its repository (never f0's: cross-repository)
        // and whether it shares f0's body hash. f1 (same vector, same body hash) comes first.
        let facts = try await store.functionFacts(ids: stored.map(\.neighbourID) + [ids[0]])
        for (entry, row) in zip(served, stored) {
            let f = try #require(facts[row.neighbourID])
            #expect(entry["repo"]?.stringValue == f.repo && f.repo != "r0")
            #expect(entry["same_duplicate_group"]?.boolValue == (f.bodyHash == facts[ids[0]]?.bodyHash), "neighbour \(row.neighbourID)")
        }
        #expect(served.first?["id"]?.intValue == Int(ids[1]) && served.first?["same_duplicate_group"] == true)
        #expect(served.dropFirst().allSatisfy { $0["same_duplicate_group"] == false })

        // Pages of lists cover every function once.
        var seen = [Int](), after: Int? = nil
        for _ in 0..<10 {
            let page = try await server.call("GET", "/v1/spaces/t.L1.body_mean/neighbours?limit=25" + (after.map { "&after=\($0)" } ?? ""))
            #expect(page.status == 200)
            let lists = page.json?["lists"]?.arrayValue ?? []
            #expect(lists.allSatisfy { $0["neighbours"]?.arrayValue?.count == 4 })
            seen += lists.compactMap { $0["function_id"]?.intValue }
            guard let next = page.json?["next_cursor"]?.intValue else { break }
            after = next
        }
        #expect(seen == ids.map { Int($0) })

        // Errors.
        let cases: [(String, Int, String)] = [
            ("/v1/spaces/nope/neighbours", 404, "unknown_space"),
            ("/v1/spaces/t.L2.body_mean/neighbours", 404, "no_neighbours"),
            ("/v1/spaces/t.L1.body_mean/neighbours?function_id=0", 400, "invalid_parameter"),
            ("/v1/spaces/t.L1.body_mean/neighbours?function_id=999999", 404, "unknown_function"),
            ("/v1/spaces/t.L1.body_mean/neighbours?after=x", 400, "invalid_parameter"),
            ("/v1/spaces/t.L1.body_mean/neighbours?limit=5000", 400, "invalid_parameter"),
        ]
        for (path, status, code) in cases {
            let r = try await server.call("GET", path)
            #expect(r.status == status && r.errorCode == code, "\(path): \(r.status) \(r.errorCode ?? "")")
        }
        let hint = try await server.call("GET", "/v1/spaces/t.L2.body_mean/neighbours")
        #expect(hint.json?["error"]?["message"]?.stringValue?.contains("\"type\":\"neighbours\"") == true)
    }
}
