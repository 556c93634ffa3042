import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import Server

/// Brute-force cosine top-k, computed here independently of FAISS.
func bruteForce(_ data: [[Float]], ids: [Int64], query: [Float], k: Int, exclude: Set<Int64> = []) -> [Int64] {
    func norm(_ v: [Float]) -> [Float] { let n = sqrt(v.reduce(0) { $0 + $1 * $1 }); return v.map { $0 / n } }
    let q = norm(query)
    let scored = zip(ids, data).filter { !exclude.contains($0.0) }.map { id, v in (id, zip(norm(v), q).reduce(0) { $0 + $1.0 * $1.1 }) }
    return scored.sorted { $0.1 > $1.1 }.prefix(k).map(\.0)
}

func seededVectors(_ n: Int, _ d: Int, seed: UInt64) -> [[Float]] {
    var state = seed
    func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
    }
    return (0..<n).map { _ in (0..<d).map { _ in next() } }
}

@Suite struct SearchRouteTests {
    func load(_ s: LiveServer, n: Int = 400, d: Int = 16) async throws -> (ids: [Int64], vectors: [[Float]]) {
        let functions = JSONValue.object(["functions": .array((0..<n).map { i in
            ["repo": .string("repo\(i % 4)"), "path": "m.py", "qualified_name": .string("f\(i)"), "start_line": 1, "end_line": 2,
             "signature": .string("def f\(i)():"), "body": .string("    return \(i % 50)\n")]
        })])
        let ids = (try await s.call("POST", "/v1/functions", json: functions).json?["ids"]?.arrayValue ?? []).map { Int64($0.intValue!) }
        _ = try await s.call("POST", "/v1/spaces", json: ["name": "sp", "kind": "body_mean", "dim": .number(Double(d))])
        let vectors = seededVectors(n, d, seed: 42)
        let npy = NPYArray(floats: vectors.flatMap { $0 }, shape: [n, d]).encoded()
        let put = try await s.call("PUT", "/v1/spaces/sp/vectors?ids=" + ids.map(String.init).joined(separator: ","), body: npy,
                                   contentType: "application/x-npy")
        #expect(put.status == 200)
        return (ids, vectors)
    }

    func hits(_ r: LiveServer.Response, _ i: Int = 0) -> [Int64] {
        (r.json?["results"]?.arrayValue?[i]["hits"]?.arrayValue ?? []).map { Int64($0["id"]!.intValue!) }
    }

    @Test func flatSearchEqualsBruteForceWithFilters() async throws {
        let s = try await LiveServer()
        defer { Task { await s.stop() } }
        let (ids, vectors) = try await load(s)
        // Vector queries.
        let q = [vectors[3], vectors[77]]
        let r = try await s.call("POST", "/v1/spaces/sp/search", json: ["vectors": .array(q.map { .array($0.map { .number(Double($0)) }) }), "k": 10])
        #expect(hits(r, 0) == bruteForce(vectors, ids: ids, query: q[0], k: 10))
        #expect(hits(r, 1) == bruteForce(vectors, ids: ids, query: q[1], k: 10))
        // Function queries: self, duplicate group (same body: i % 50) and same repository (i % 4) excluded.
        let f = 5
        let dup = Set(ids.enumerated().filter { $0.offset % 50 == f % 50 }.map(\.element))
        let sameRepo = Set(ids.enumerated().filter { $0.offset % 4 == f % 4 }.map(\.element))
        let r2 = try await s.call("POST", "/v1/spaces/sp/search",
                                  json: ["function_ids": [.number(Double(ids[f]))], "k": 7, "exclude_duplicates": true, "exclude_same_repo": true])
        #expect(hits(r2) == bruteForce(vectors, ids: ids, query: vectors[f], k: 7, exclude: dup.union(sameRepo)))
        let first = r2.json?["results"]?.arrayValue?.first?["hits"]?.arrayValue?.first
        #expect(first?["repo"]?.stringValue?.hasPrefix("repo") == true && first?["signature"]?.stringValue?.hasPrefix("def f") == true)
        // Restricted to one repository.
        let r3 = try await s.call("POST", "/v1/spaces/sp/search", json: ["vectors": [.array(vectors[9].map { .number(Double($0)) })], "k": 5, "repos": ["repo2"]])
        let repo2 = Set(ids.enumerated().filter { $0.offset % 4 == 2 }.map(\.element))
        #expect(hits(r3) == bruteForce(vectors, ids: ids, query: vectors[9], k: 5, exclude: Set(ids).subtracting(repo2)))
        // npy queries.
        let npy = NPYArray(floats: vectors[11], shape: [1, 16]).encoded()
        let r4 = try await s.call("POST", "/v1/spaces/sp/search?k=3", body: npy, contentType: "application/x-npy")
        #expect(hits(r4) == bruteForce(vectors, ids: ids, query: vectors[11], k: 3))
        // Writes reach the live index: move one vector next to a query and delete another.
        let moved = zip(vectors[200], vectors[7]).map { 2 * $0 + 0.05 * $1 }
        _ = try await s.call("PUT", "/v1/spaces/sp/vectors", json: ["ids": [.number(Double(ids[300]))], "vectors": [.array(moved.map { .number(Double($0)) })]])
        #expect(try await s.call("DELETE", "/v1/functions/\(ids[201])").status == 204)
        var now = vectors; now[300] = moved
        let keep = ids.indices.filter { $0 != 201 }
        let r5 = try await s.call("POST", "/v1/spaces/sp/search", json: ["vectors": [.array(vectors[200].map { .number(Double($0)) })], "k": 5])
        #expect(hits(r5) == bruteForce(keep.map { now[$0] }, ids: keep.map { ids[$0] }, query: vectors[200], k: 5))
        #expect(hits(r5).prefix(2).contains(ids[300]))
    }

    @Test func badSearchesAre4xxAndABadIndexTypeKeepsTheOld() async throws {
        let s = try await LiveServer()
        defer { Task { await s.stop() } }
        let (ids, vectors) = try await load(s, n: 100)
        let v = JSONValue.array(vectors[0].map { .number(Double($0)) })
        let cases: [(JSONValue, Int, String)] = [
            (["vectors": [[1, 2, 3]], "k": 5], 400, "wrong_dimension"),
            (["vectors": [v], "k": 0], 400, "invalid_k"),
            (["vectors": [v], "k": 1001], 400, "invalid_k"),
            (["k": 5], 400, "invalid_query"),
            (["vectors": [v], "function_ids": [1]], 400, "invalid_query"),
            (["vectors": [v], "exclude_same_repo": true], 400, "invalid_query"),
            (["function_ids": [999_999]], 422, "unknown_function"),
        ]
        for (body, status, code) in cases {
            let r = try await s.call("POST", "/v1/spaces/sp/search", json: body)
            #expect(r.status == status && r.errorCode == code, "\(body.jsonString()): \(String(decoding: r.body, as: UTF8.self))")
        }
        let nan = NPYArray(floats: [Float.nan] + Array(vectors[0].dropFirst()), shape: [1, 16]).encoded()
        #expect(try await s.call("POST", "/v1/spaces/sp/search", body: nan, contentType: "application/x-npy").errorCode == "non_finite")
        #expect(try await s.call("POST", "/v1/spaces/none/search", json: ["vectors": [v]]).status == 404)
        for factory in ["IVF4096,Flat", "Bogus", "IVF8,PQ5"] {
            let r = try await s.call("POST", "/v1/spaces/sp/index", json: ["factory": .string(factory)])
            #expect(r.status == 422 || r.status == 400, "\(factory): \(String(decoding: r.body, as: UTF8.self))")
        }
        let info = try await s.call("GET", "/v1/spaces/sp/index")
        #expect(info.json?["factory"] == "Flat" && info.json?["count"] == 100)
        let q = try await s.call("POST", "/v1/spaces/sp/search", json: ["vectors": [v], "k": 3])
        #expect(hits(q) == bruteForce(vectors, ids: ids, query: vectors[0], k: 3))
        let hnsw = try await s.call("POST", "/v1/spaces/sp/index", json: ["factory": "HNSW32"])
        #expect(hnsw.status == 200 && hnsw.json?["factory"] == "HNSW32")
        #expect(try await s.call("GET", "/v1/spaces/sp").json?["index_factory"] == "HNSW32")
    }

    @Test func anIndexSurvivesARestartAndACorruptFileIsRebuilt() async throws {
        let first = try await LiveServer()
        let (ids, vectors) = try await load(first)
        let q = JSONValue.object(["vectors": [.array(vectors[5].map { .number(Double($0)) })], "k": 10])
        let before = hits(try await first.call("POST", "/v1/spaces/sp/search", json: q))
        await first.stop()  // saves the index stamped with the store generation
        let file = first.dir.appendingPathComponent("indexes/sp.faissidx")
        let saved = try Data(contentsOf: file)

        let second = try await LiveServer(dir: first.dir)
        #expect(hits(try await second.call("POST", "/v1/spaces/sp/search", json: q)) == before)
        #expect(try Data(contentsOf: file) == saved)  // loaded, not rebuilt
        await second.stop()

        var corrupt = saved
        for i in stride(from: corrupt.count / 2, to: corrupt.count / 2 + 64, by: 1) { corrupt[i] ^= 0x5a }
        try corrupt.write(to: file)
        let third = try await LiveServer(dir: first.dir)
        defer { Task { await third.stop() } }
        #expect(hits(try await third.call("POST", "/v1/spaces/sp/search", json: q)) == bruteForce(vectors, ids: ids, query: vectors[5], k: 10))
        await third.search.saveDirty()
        _ = try await third.search.catalog.save(space: "sp")
        #expect(try Data(contentsOf: file) != corrupt)  // rewritten from the store
    }
}
