import Core
import Foundation
import Testing
import TestSupport
@testable import Server

let sampleFunctions: JSONValue = ["functions": [
    ["repo": "alpha", "path": "pkg/a.py", "qualified_name": "A.run", "start_line": 3, "end_line": 9,
     "signature": "def run(self):", "body": "        return 1\n", "properties": ["loc": 2, "is_method": true]],
    ["repo": "alpha", "path": "pkg/b.py", "qualified_name": "helper", "start_line": 1, "end_line": 2,
     "signature": "def helper():", "body": "    return 1\n"],
    ["repo": "beta", "path": "c.py", "qualified_name": "other", "start_line": 10, "end_line": 12,
     "signature": "def other(x):", "body": "    return x\n"],
]]

@Suite struct ServerRoundTripTests {
    @Test(arguments: Backend.all) func functionsAndSpacesAndVectorsRoundTrip(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        #expect(try await s.call("GET", "/healthz").json?["status"] == "ok")

        let up = try await s.call("POST", "/v1/functions", json: sampleFunctions)
        #expect(up.status == 200)
        let ids = (up.json?["ids"]?.arrayValue ?? []).compactMap { $0.intValue }
        #expect(ids.count == 3 && up.json?["created"] == 3)
        // Same batch again: nothing changes.
        #expect(try await s.call("POST", "/v1/functions", json: sampleFunctions).json?["unchanged"] == 3)

        let one = try await s.call("GET", "/v1/functions/\(ids[0])")
        #expect(one.json?["qualified_name"] == "A.run" && one.json?["properties"]?["is_method"] == true)
        // A and helper bodies differ only by indentation: same duplicate group.
        let helper = try await s.call("GET", "/v1/functions/\(ids[1])")
        #expect(one.json?["body_hash"] == helper.json?["body_hash"])

        // Cursor pagination and filters.
        let page1 = try await s.call("GET", "/v1/functions?limit=2")
        #expect(page1.json?["functions"]?.arrayValue?.count == 2)
        let cursor = try #require(page1.json?["next_cursor"]?.stringValue)
        let page2 = try await s.call("GET", "/v1/functions?limit=2&cursor=\(cursor)")
        #expect(page2.json?["functions"]?.arrayValue?.map { $0["id"]!.intValue! } == [ids[2]])
        #expect(page2.json?["next_cursor"] == .null)
        #expect(try await s.call("GET", "/v1/functions?repo=beta").json?["functions"]?.arrayValue?.count == 1)
        #expect(try await s.call("GET", "/v1/functions?q=help").json?["functions"]?.arrayValue?.count == 1)

        // Spaces.
        let created = try await s.call("POST", "/v1/spaces", json: ["name": "m.L3.body_mean", "model": "m", "layer": 3, "kind": "body_mean", "dim": 4])
        #expect(created.status == 201 && created.json?["dim"] == 4)
        #expect(try await s.call("GET", "/v1/spaces").json?["spaces"]?.arrayValue?.count == 1)

        // Vectors as JSON, base64, npy and npz; read back as JSON, npy and npz.
        let v: [[Float]] = [[1, 2, 3, 4], [0.5, -0.5, 0.25, 8], [9, 9, 9, 9]]
        let put = try await s.call("PUT", "/v1/spaces/m.L3.body_mean/vectors",
                                   json: ["ids": .array(ids[0..<2].map { .number(Double($0)) }),
                                          "vectors": .array(v[0..<2].map { .array($0.map { .number(Double($0)) }) })])
        #expect(put.status == 200 && put.json?["upserted"] == 2)
        let b64 = v[2].withUnsafeBytes { Data($0) }.base64EncodedString()
        #expect(try await s.call("PUT", "/v1/spaces/m.L3.body_mean/vectors",
                                 json: ["ids": [.number(Double(ids[2]))], "vectors_b64": [.string(b64)]]).status == 200)
        let asJSON = try await s.call("GET", "/v1/spaces/m.L3.body_mean/vectors?ids=\(ids[2]),\(ids[0])")
        #expect(asJSON.json?["vectors"] == .array([v[2], v[0]].map { .array($0.map { .number(Double($0)) }) }))

        let npy = NPYArray(floats: v[1] + v[0], shape: [2, 4]).encoded()
        #expect(try await s.call("PUT", "/v1/spaces/m.L3.body_mean/vectors?ids=\(ids[0]),\(ids[1])", body: npy,
                                 contentType: "application/x-npy").status == 200)
        let back = try await s.call("GET", "/v1/spaces/m.L3.body_mean/vectors?ids=\(ids[0]),\(ids[1])", headers: ["Accept": "application/x-npy"])
        #expect(back.headers["content-type"] == "application/x-npy")
        #expect(try NPYArray(data: back.body).floats() == v[1] + v[0])

        let npz = try NPZ.encode(["ids": NPYArray(int64s: [Int64(ids[2])]), "vectors": NPYArray(floats: v[0], shape: [1, 4])])
        #expect(try await s.call("PUT", "/v1/spaces/m.L3.body_mean/vectors", body: npz, contentType: "application/x-npz").status == 200)
        let all = try NPZ.decode(try await s.call("GET", "/v1/spaces/m.L3.body_mean/vectors?format=npz").body)
        #expect(try all["ids"]!.int64s() == ids.map(Int64.init))
        #expect(try all["vectors"]!.floats() == v[1] + v[0] + v[0])

        // Stats and metrics see it all.
        let stats = try await s.call("GET", "/v1/stats")
        #expect(stats.json?["store"]?["functions"] == 3 && stats.json?["store"]?["vectors"] == 3)
        let trims = MallocUsage.trimCounts()  // before the page: totals only grow
        let metrics = String(decoding: try await s.call("GET", "/metrics").body, as: UTF8.self)
        #expect(metrics.contains("swejepa_http_requests_total{route=\"/v1/spaces/{name}/vectors\",method=\"PUT\",status=\"200\"}"))
        #expect(metrics.contains("swejepa_table_rows{table=\"functions\"} 3"))
        #expect(metrics.contains("swejepa_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 1"))
        // What malloc holds (this process's live bytes cannot be 0: the server itself is in them).
        for kind in ["in_use", "free_kept", "mmapped"] {
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("swejepa_malloc_bytes{kind=\"\(kind)\"} ") }
            let value = line.flatMap { Double($0.split(separator: " ").last ?? "") }
            #expect(value.map { kind == "in_use" ? $0 > 1_000_000 : $0 >= 0 } == true, "\(kind): \(line.map(String.init) ?? "missing")")
        }
        // SQLite's own allocations: a SQLite server's store has open connections, so more than nothing
        // (a PostgreSQL one: whatever other suites hold), and the high-water mark is at least the current value.
        let sqlite = ["now", "high_water"].map { kind in
            metrics.split(separator: "\n").first { $0.hasPrefix("swejepa_sqlite_memory_bytes{kind=\"\(kind)\"} ") }
                .flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        #expect(sqlite[0].map { backend == .sqlite ? $0 > 0 : $0 >= 0 } == true && sqlite[1].map { $0 >= sqlite[0]! } == true, "\(sqlite)")
        // Trims so far, as counters equal to the process's own totals at least (other suites may trim meanwhile).
        for (name, floor) in [("swejepa_malloc_trims_total", trims.trims), ("swejepa_malloc_trimmed_bytes_total", trims.releasedBytes)] {
            #expect(metrics.contains("# TYPE \(name) counter\n"))
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("\(name) ") }
            #expect(line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= Double(floor) } == true, "\(name)")
        }
        // The thread pools' load, as whole numbers of jobs (the pools are process-wide: other suites
        // running beside this one may have jobs on them, so the values are not asserted to be 0).
        for pool in ["swejepa.compute", "swejepa.search"] {
            for name in ["swejepa_pool_busy_threads", "swejepa_pool_queued_jobs"] {
                let line = metrics.split(separator: "\n").first { $0.hasPrefix("\(name){pool=\"\(pool)\"} ") }
                #expect(line.flatMap { Int($0.split(separator: " ").last ?? "") }.map { $0 >= 0 } == true, "\(name) of \(pool)")
            }
        }

        // Deletes.
        #expect(try await s.call("DELETE", "/v1/functions/\(ids[2])").status == 204)
        #expect(try await s.call("GET", "/v1/functions/\(ids[2])").status == 404)
        #expect(try await s.call("GET", "/v1/spaces/m.L3.body_mean").json?["count"] == 2)
        #expect(try await s.call("DELETE", "/v1/spaces/m.L3.body_mean").status == 204)
        #expect(try await s.call("GET", "/v1/spaces/m.L3.body_mean").status == 404)
    }

    @Test(arguments: Backend.all) func tokenSpacesTakeAMatrixPerFunction(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let ids = try #require(try await s.call("POST", "/v1/functions", json: sampleFunctions).json?["ids"]?.arrayValue)
        _ = try await s.call("POST", "/v1/spaces", json: ["name": "tok", "kind": "sig_tokens", "dim": 2])
        let put = try await s.call("PUT", "/v1/spaces/tok/vectors",
                                   json: ["ids": [ids[0], ids[1]], "vectors": [[[1, 2], [3, 4], [5, 6]], [[7, 8]]]])
        #expect(put.status == 200)
        let one = try await s.call("GET", "/v1/spaces/tok/vectors?ids=\(ids[0].intValue!)&format=npy")
        let m = try NPYArray(data: one.body)
        let mv = try m.floats()
        #expect(m.shape == [3, 2] && mv == [1, 2, 3, 4, 5, 6])
        let z = try NPZ.decode(try await s.call("GET", "/v1/spaces/tok/vectors?format=npz").body)
        #expect(try z["rows"]!.int64s() == [3, 1])
        #expect(try await s.call("GET", "/v1/spaces/tok/vectors?format=npy").errorCode == "npy_needs_one_id")
    }

    @Test(arguments: Backend.all) func aRestartFindsTheData(_ backend: Backend) async throws {
        // One data directory for the servers one after the other; removed at the end, not by `stop()`.
        let dir = try makeTemporaryDirectory("restart")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let first = try await LiveServer(backend, dir: dir, sharing: db)
        _ = try await first.call("POST", "/v1/functions", json: sampleFunctions)
        _ = try await first.call("POST", "/v1/spaces", json: ["name": "keep", "kind": "sig_mean", "dim": 2])
        await first.stop()
        let second = try await LiveServer(backend, dir: first.dir, sharing: db)
        defer { Task { await second.stop() } }
        #expect(try await second.call("GET", "/v1/functions").json?["functions"]?.arrayValue?.count == 3)
        #expect(try await second.call("GET", "/v1/spaces/keep").status == 200)
    }
}
