import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
@testable import Server

/// The search filters over HTTP (`exclude_self` sent or not, `exclude_duplicates`, `exclude_same_repo`,
/// `repos`, and their combinations) against a cosine brute force computed here in Double, with the
/// repositories and duplicate groups the test itself assigned. The data makes every filter matter:
/// two query functions sit in one tight cluster together with members of their duplicate groups and
/// of their repositories, so each filter takes hits out of the top k. The test first checks, on its
/// own brute force, that each filtered answer differs from the unfiltered one — a server that
/// ignored a filter would fail, and the data cannot silently stop telling them apart.
@Suite struct SearchFilterRouteTests {
    static let d = 16, k = 6
    static let queries = [0, 1]

    /// One function: repository index and duplicate group (nil: a body of its own).
    struct Fn { var repo: Int; var group: Int? }
    /// A filter as sent (nil: not sent, the server's default applies).
    struct Filter: CustomStringConvertible {
        var excludeSelf: Bool? = nil
        var dups: Bool? = nil
        var sameRepo: Bool? = nil
        var repos: [Int]? = nil
        var description: String { "self=\(excludeSelf.map(String.init) ?? "-") dups=\(dups.map(String.init) ?? "-") repo=\(sameRepo.map(String.init) ?? "-") repos=\(repos.map { "\($0)" } ?? "-")" }
    }

    /// Functions 0 and 1 are the queries (repo 0 / group 0 and repo 1 / group 1); 24 cluster members
    /// around them cover every (repository, group) pair; 60 random functions make the background.
    static let fns: [Fn] = [Fn(repo: 0, group: 0), Fn(repo: 1, group: 1)]
        + (0..<24).map { Fn(repo: $0 % 4, group: $0 % 3 < 2 ? $0 % 3 : nil) }
        + (0..<60).map { Fn(repo: $0 % 4, group: nil) }

    static let vectors: [[Float]] = {
        var rng = SplitMix64(seed: 18)
        func gauss() -> Float { Float((-2 * log(1 - rng.uniform())).squareRoot() * cos(2 * Double.pi * rng.uniform())) }
        func unit() -> [Float] { let v = (0..<d).map { _ in gauss() }; let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot(); return v.map { $0 / n } }
        let centre = unit()
        func near(_ eps: Float) -> [Float] { zip(centre, unit()).map { $0 + eps * $1 } }
        return [near(0.05), near(0.05)] + (0..<24).map { near(0.1 + 0.015 * Float($0)) } + (0..<60).map { _ in unit() }
    }()

    /// Bodies: the groups' members share a body up to whitespace (one spelled differently, which the
    /// server's normalisation must still group); everything else has a body of its own.
    static func body(_ i: Int) -> String {
        switch fns[i].group {
        case 0: i == 5 ? "  return   'alpha'" : "    return 'alpha'\n"
        case 1: "    return 'beta'\n"
        default: "    return \(i) * 7\n"
        }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) { ab += Double(x) * Double(y); aa += Double(x) * Double(x); bb += Double(y) * Double(y) }
        return ab / (aa.squareRoot() * bb.squareRoot())
    }

    /// The top-k function indices for query function `q` under `f`, with scores (one more than k, to
    /// check the cut is not a near tie).
    static func expected(_ q: Int, _ f: Filter, k: Int = k) -> [(index: Int, score: Double)] {
        let candidates = fns.indices.filter { j in
            if f.excludeSelf ?? true, j == q { return false }
            // A function is in its own duplicate group and its own repository.
            if f.dups == true, j == q || (fns[q].group != nil && fns[j].group == fns[q].group) { return false }
            if f.sameRepo == true, fns[j].repo == fns[q].repo { return false }
            if let r = f.repos, !r.contains(fns[j].repo) { return false }
            return true
        }
        return Array(candidates.map { ($0, cosine(vectors[q], vectors[$0])) }.sorted { $0.1 > $1.1 }.prefix(k + 1))
    }

    static func top(_ q: Int, _ f: Filter) -> [Int] { expected(q, f).prefix(k).map(\.index) }

    @Test(arguments: Backend.all) func eachFilterChangesTheAnswerAndTheServerAppliesIt(_ backend: Backend) async throws {
        let fns = Self.fns, vectors = Self.vectors, d = Self.d, k = Self.k
        // The data discriminates: every filter alone, and each pair against its parts, changes the top k
        // of both queries.
        let plain = Filter()
        for q in Self.queries {
            let base = Self.top(q, plain)
            #expect(base == Self.top(q, Filter(excludeSelf: true)))
            for f in [Filter(excludeSelf: false), Filter(dups: true), Filter(sameRepo: true), Filter(repos: [2, 3])] {
                #expect(Self.top(q, f) != base, "query \(q): \(f) does not change the brute-force top \(k)")
            }
            let both = Self.top(q, Filter(dups: true, sameRepo: true))
            #expect(both != Self.top(q, Filter(dups: true)) && both != Self.top(q, Filter(sameRepo: true)), "query \(q)")
            #expect(Self.top(q, Filter(excludeSelf: false, dups: true)) != Self.top(q, Filter(excludeSelf: false)), "query \(q)")
            #expect(Self.top(q, Filter(excludeSelf: false)).first == q)
        }
        // The queries are each other's nearest neighbour: a server that excluded every query id from
        // every row (instead of each row's own) would differ too.
        #expect(Self.top(0, plain).first == 1 && Self.top(1, plain).first == 0)

        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let functions = JSONValue.object(["functions": .array(fns.indices.map { i in
            ["repo": .string("r\(fns[i].repo)"), "path": "m.py", "qualified_name": .string("f\(i)"), "start_line": 1, "end_line": 2,
             "signature": .string("def f\(i)():"), "body": .string(Self.body(i))]
        })])
        let ids = (try await s.call("POST", "/v1/functions", json: functions).json?["ids"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int64.init) }
        try #require(ids.count == fns.count)
        let index = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($0.element, $0.offset) })
        #expect(try await s.call("POST", "/v1/spaces", json: ["name": "filt", "kind": "body_mean", "dim": .number(Double(d))]).status == 201)
        let npy = NPYArray(floats: vectors.flatMap { $0 }, shape: [vectors.count, d]).encoded()
        #expect(try await s.call("PUT", "/v1/spaces/filt/vectors?ids=" + ids.map(String.init).joined(separator: ","),
                                 body: npy, contentType: "application/x-npy").status == 200)

        let cases: [Filter] = [
            plain, Filter(excludeSelf: true), Filter(excludeSelf: false),
            Filter(dups: true), Filter(sameRepo: true), Filter(dups: true, sameRepo: true),
            Filter(excludeSelf: false, dups: true), Filter(excludeSelf: false, sameRepo: true),
            Filter(excludeSelf: false, dups: true, sameRepo: true), Filter(dups: false, sameRepo: false),
            Filter(repos: [2, 3]), Filter(excludeSelf: false, repos: [0, 1]), Filter(dups: true, repos: [0, 2]),
            Filter(dups: true, sameRepo: true, repos: [1, 2, 3]),
            Filter(sameRepo: true, repos: [1]),  // query 1's only allowed repository is its own: no hits
        ]
        for f in cases {
            var body: [String: JSONValue] = ["function_ids": .array(Self.queries.map { .number(Double(ids[$0])) }), "k": .number(Double(k))]
            if let v = f.excludeSelf { body["exclude_self"] = .bool(v) }
            if let v = f.dups { body["exclude_duplicates"] = .bool(v) }
            if let v = f.sameRepo { body["exclude_same_repo"] = .bool(v) }
            if let r = f.repos { body["repos"] = .array(r.map { .string("r\($0)") }) }
            let r = try await s.call("POST", "/v1/spaces/filt/search", json: .object(body))
            #expect(r.status == 200, "\(f): \(String(decoding: r.body, as: UTF8.self))")
            for (row, q) in Self.queries.enumerated() {
                let want = Self.expected(q, f)
                // No near tie inside the top k or at its cut (float32 FAISS scores could swap those).
                for (a, b) in zip(want, want.dropFirst()) { try #require(a.score - b.score > 1e-5, "\(f) query \(q): near tie") }
                let got = (r.json?["results"]?.arrayValue?[row]["hits"]?.arrayValue ?? []).compactMap { $0["id"]?.intValue.flatMap { index[Int64($0)] } }
                #expect(got == want.prefix(k).map(\.index), "\(f) query \(q)")
                #expect(r.json?["results"]?.arrayValue?[row]["query"]?.intValue == Int(ids[q]))
            }
        }
        // Vector queries take `repos` too (JSON body and `?repos=` with an .npy body); the query
        // function itself is found then (exclude_self applies to function queries only).
        let asVector = Filter(excludeSelf: false, repos: [0, 2])
        let v = try await s.call("POST", "/v1/spaces/filt/search", json: ["vectors": [.array(vectors[0].map { .number(Double($0)) })],
                                                                         "k": .number(Double(k)), "repos": ["r0", "r2"]])
        let wantV = Self.expected(0, asVector).prefix(k).map(\.index)
        #expect(wantV.first == 0)
        #expect((v.json?["results"]?.arrayValue?.first?["hits"]?.arrayValue ?? []).compactMap { $0["id"]?.intValue.flatMap { index[Int64($0)] } } == wantV)
        let n = try await s.call("POST", "/v1/spaces/filt/search?k=\(k)&repos=r0,r2", body: NPYArray(floats: vectors[0], shape: [1, d]).encoded(),
                                 contentType: "application/x-npy")
        #expect((n.json?["results"]?.arrayValue?.first?["hits"]?.arrayValue ?? []).compactMap { $0["id"]?.intValue.flatMap { index[Int64($0)] } } == wantV)
    }
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

    @Test(arguments: Backend.all) func flatSearchEqualsBruteForceWithFilters(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
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
        // Numbers only: the same hits as an .npz (Accept: x-npy or x-npz, or ?format=npz), -1 / NaN past
        // a query's last hit (repo3 holds 100 of the 400 functions: k 105 leaves five empty slots).
        let jsonQ: JSONValue = ["vectors": .array(q.map { .array($0.map { .number(Double($0)) }) }), "k": 10]
        for (path, accept) in [("/v1/spaces/sp/search", "application/x-npy"), ("/v1/spaces/sp/search", "application/x-npz"),
                               ("/v1/spaces/sp/search?format=npz", "application/json")] {
            let z = try await s.call("POST", path, json: jsonQ, headers: ["Accept": accept])
            #expect(z.status == 200 && z.headers["content-type"] == "application/x-npz", "\(path) \(accept)")
            let m = try NPZ.decode(z.body)
            let zIDs = try #require(m["ids"]).int64s(), zScores = try #require(m["scores"]).floats()
            let zQueries = try #require(m["queries"]).int64s()
            #expect(m["ids"]?.shape == [2, 10] && m["scores"]?.shape == [2, 10] && zQueries == [0, 1])
            #expect(Array(zIDs[0..<10]) == hits(r, 0) && Array(zIDs[10..<20]) == hits(r, 1))
            let jsonScores = (r.json?["results"]?.arrayValue?[0]["hits"]?.arrayValue ?? []).map { Float($0["score"]!.doubleValue!) }
            #expect(Array(zScores[0..<10]) == jsonScores)
        }
        let few = try await s.call("POST", "/v1/spaces/sp/search?format=npz",
                                   json: ["vectors": [.array(vectors[9].map { .number(Double($0)) })], "k": 105, "repos": ["repo3"]])
        let fm = try NPZ.decode(few.body)
        let fIDs = try #require(fm["ids"]).int64s(), fScores = try #require(fm["scores"]).floats()
        #expect(fIDs.count == 105 && fIDs.suffix(5).allSatisfy { $0 == -1 } && fIDs.prefix(100).allSatisfy { $0 >= 0 })
        #expect(fScores.suffix(5).allSatisfy(\.isNaN) && fScores.prefix(100).allSatisfy(\.isFinite))
        #expect(try await s.call("POST", "/v1/spaces/sp/search?format=npy", json: jsonQ).errorCode == "invalid_format")
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

    @Test(arguments: Backend.all) func badSearchesAre4xxAndABadIndexTypeKeepsTheOld(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let (ids, vectors) = try await load(s, n: 100)
        let v = JSONValue.array(vectors[0].map { .number(Double($0)) })
        let cases: [(JSONValue, Int, String)] = [
            (["vectors": [[1, 2, 3]], "k": 5], 422, "wrong_dimension"),
            (["vectors": [v], "k": 0], 400, "invalid_k"),
            (["vectors": [v], "k": 1001], 400, "invalid_k"),
            (["k": 5], 400, "invalid_query"),
            (["vectors": [v], "function_ids": [1]], 400, "invalid_query"),
            (["vectors": [v], "exclude_same_repo": true], 422, "invalid_query"),
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

    @Test(arguments: Backend.all) func anIndexSurvivesARestartAndACorruptFileIsRebuilt(_ backend: Backend) async throws {
        // One data directory for the servers one after the other; removed at the end, not by `stop()`.
        let dir = try makeTemporaryDirectory("restart-index")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let first = try await LiveServer(backend, dir: dir, sharing: db)
        let (ids, vectors) = try await load(first)
        let q = JSONValue.object(["vectors": [.array(vectors[5].map { .number(Double($0)) })], "k": 10])
        let before = hits(try await first.call("POST", "/v1/spaces/sp/search", json: q))
        await first.stop()  // saves the index stamped with the store generation
        let file = first.dir.appendingPathComponent("indexes/sp.faissidx")
        let saved = try Data(contentsOf: file)

        let second = try await LiveServer(backend, dir: first.dir, sharing: db)
        #expect(hits(try await second.call("POST", "/v1/spaces/sp/search", json: q)) == before)
        #expect(try Data(contentsOf: file) == saved)  // loaded, not rebuilt
        await second.stop()

        var corrupt = saved
        for i in stride(from: corrupt.count / 2, to: corrupt.count / 2 + 64, by: 1) { corrupt[i] ^= 0x5a }
        try corrupt.write(to: file)
        let third = try await LiveServer(backend, dir: first.dir, sharing: db)
        defer { Task { await third.stop() } }
        #expect(hits(try await third.call("POST", "/v1/spaces/sp/search", json: q)) == bruteForce(vectors, ids: ids, query: vectors[5], k: 10))
        await third.search.saveDirty()
        _ = try await third.search.catalog.save(space: "sp")
        #expect(try Data(contentsOf: file) != corrupt)  // rewritten from the store
    }
}
