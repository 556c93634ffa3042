import Core
import Foundation
import Testing
import TestSupport
@testable import Server

/// Recall calibration over HTTP: the curve measured at a rebuild is served by the index endpoint,
/// `target_recall` is settable there and on a search, and every new parameter is checked strictly
/// (a 400 with its own code, nothing changed).
@Suite struct RecallRouteTests {
    static let n = 1_500, d = 24

    func load(_ s: LiveServer) async throws -> (ids: [Int64], vectors: [[Float]]) {
        let functions = JSONValue.object(["functions": .array((0..<Self.n).map { i in
            ["repo": "r", "path": "m.py", "qualified_name": .string("f\(i)"), "start_line": 1, "end_line": 2,
             "signature": .string("def f\(i)():"), "body": .string("    return \(i)\n")]
        })])
        let ids = (try await s.call("POST", "/v1/functions", json: functions).json?["ids"]?.arrayValue ?? []).map { Int64($0.intValue!) }
        _ = try await s.call("POST", "/v1/spaces", json: ["name": "sp", "kind": "body_mean", "dim": .number(Double(Self.d))])
        let vectors = seededVectors(Self.n, Self.d, seed: 7)
        let npy = NPYArray(floats: vectors.flatMap { $0 }, shape: [Self.n, Self.d]).encoded()
        let put = try await s.call("PUT", "/v1/spaces/sp/vectors?ids=" + ids.map(String.init).joined(separator: ","), body: npy,
                                   contentType: "application/x-npy")
        #expect(put.status == 200)
        return (ids, vectors)
    }

    @Test func theIndexEndpointServesTheCurveAndSearchesHonourTargets() async throws {
        let s = try await LiveServer()
        defer { Task { await s.stop() } }
        let (ids, vectors) = try await load(s)
        // Flat: exact, no curve, the default target.
        let flat = try await s.call("GET", "/v1/spaces/sp/index")
        #expect(flat.status == 200 && flat.json?["recall"] == nil && flat.json?["target_recall"]?.doubleValue == 0.95)
        #expect(flat.json?["ef_construction"] == nil)

        // efC outside 1...4096 or on a non-HNSW factory: 400/422 and the Flat index stays.
        for bad in ["HNSW4,efC0", "IVF4,Flat,efC40"] {
            let r = try await s.call("POST", "/v1/spaces/sp/index", json: ["factory": .string(bad)])
            #expect((400...499).contains(r.status) && r.json?["error"]?["code"] != nil, "\(bad): \(r.status)")
        }
        #expect(try await s.call("GET", "/v1/spaces/sp/index").json?["factory"] == "Flat")
        let defaulted = try await s.call("POST", "/v1/spaces/sp/index", json: ["factory": "HNSW4"])
        #expect(defaulted.json?["ef_construction"]?.intValue == 40)  // max(40, 2·4)
        let built = try await s.call("POST", "/v1/spaces/sp/index", json: ["factory": "HNSW4,efC24", "target_recall": 0.9])
        #expect(built.status == 200, "\(String(decoding: built.body, as: UTF8.self))")
        #expect(built.json?["factory"] == "HNSW4,efC24" && built.json?["ef_construction"]?.intValue == 24)
        let info = try await s.call("GET", "/v1/spaces/sp/index")
        let recall = try #require(info.json?["recall"])
        #expect(recall["knob"] == "ef_search" && recall["k"] == 10 && recall["queries"] == 500 && recall["count"]?.intValue == Self.n)
        let points = recall["points"]?.arrayValue ?? []
        #expect(points.count >= 3)
        let chosen = try #require(recall["chosen"])
        #expect(info.json?["target_recall"]?.doubleValue == 0.9)
        // The default ef_search is the smallest measured value reaching the target.
        let firstReaching = points.first { ($0["recall"]?.doubleValue ?? 0) >= 0.9 }
        #expect(chosen["value"] == firstReaching?["value"] && info.json?["ef_search"] == chosen["value"])
        #expect(built.json?["recall"] == info.json?["recall"])

        // A search with a target: its hits against brute force on a few of the stored vectors.
        let q = Array(vectors[0..<20])
        let r = try await s.call("POST", "/v1/spaces/sp/search",
                                 json: ["vectors": .array(q.map { .array($0.map { .number(Double($0)) }) }), "k": 10, "target_recall": 1.0])
        #expect(r.status == 200)
        var hit = 0
        for (i, row) in q.enumerated() {
            let got = Set((r.json?["results"]?.arrayValue?[i]["hits"]?.arrayValue ?? []).map { Int64($0["id"]!.intValue!) })
            hit += got.intersection(bruteForce(vectors, ids: ids, query: row, k: 10)).count
        }
        let top = points.last?["recall"]?.doubleValue ?? 0
        #expect(Double(hit) / 200 >= min(top, 1) - 0.05)
        let npy = NPYArray(floats: vectors[3], shape: [1, Self.d]).encoded()
        #expect(try await s.call("POST", "/v1/spaces/sp/search?k=5&target_recall=0.5", body: npy, contentType: "application/x-npy").status == 200)

        // Summaries only when asked: the default carries them, fields=ids answers ids and scores.
        let v = JSONValue.array(vectors[0].map { .number(Double($0)) })
        func firstHitKeys(_ r: LiveServer.Response) -> Set<String> {
            Set(r.json?["results"]?.arrayValue?.first?["hits"]?.arrayValue?.first?.objectValue?.keys.map { $0 } ?? [])
        }
        let full = try await s.call("POST", "/v1/spaces/sp/search", json: ["vectors": [v], "k": 3])
        #expect(firstHitKeys(full) == ["id", "score", "repo", "path", "qualified_name", "signature"])
        let lean = try await s.call("POST", "/v1/spaces/sp/search", json: ["vectors": [v], "k": 3, "fields": "ids"])
        #expect(firstHitKeys(lean) == ["id", "score"])
        #expect(lean.json?["results"]?.arrayValue?.first?["hits"] .map { $0.arrayValue?.map { $0["id"] } }
            == full.json?["results"]?.arrayValue?.first?["hits"].map { $0.arrayValue?.map { $0["id"] } })
        let leanNpy = try await s.call("POST", "/v1/spaces/sp/search?k=3&fields=ids", body: npy, contentType: "application/x-npy")
        #expect(firstHitKeys(leanNpy) == ["id", "score"])

        // Strict parameters: each mistake its own 400, nothing changed.
        for (body, code) in [
            (["vectors": [v], "target_recall": 1.5] as JSONValue, "invalid_target_recall"),
            (["vectors": [v], "target_recall": 0], "invalid_target_recall"),
            (["vectors": [v], "target_recall": 0.9, "ef_search": 32], "conflicting_parameters"),
            (["vectors": [v], "target_recall": 0.9, "nprobe": 4], "conflicting_parameters"),
            (["vectors": [v], "fields": "summaries"], "invalid_fields"),
        ] {
            let bad = try await s.call("POST", "/v1/spaces/sp/search", json: body)
            // A rule between fields (both knobs given) is a 422; a value outside its schema a 400.
            let status = code == "conflicting_parameters" ? 422 : 400
            #expect(bad.status == status && bad.errorCode == code, "\(body.jsonString()): \(String(decoding: bad.body, as: UTF8.self))")
        }
        for (query, code) in [("target_recall=abc", "invalid_target_recall"), ("target_recall=2", "invalid_target_recall"),
                              ("ef_search=abc", "invalid_parameter"), ("nprobe=0", "invalid_parameter"),
                              ("ef_search=8&target_recall=0.9", "conflicting_parameters")] {
            let bad = try await s.call("POST", "/v1/spaces/sp/search?\(query)", body: npy, contentType: "application/x-npy")
            let status = code == "conflicting_parameters" ? 422 : 400
            #expect(bad.status == status && bad.errorCode == code, "\(query): \(String(decoding: bad.body, as: UTF8.self))")
        }
        for t in [-1.0, 0, 1.01] {
            let bad = try await s.call("POST", "/v1/spaces/sp/index", json: ["factory": "Flat", "target_recall": .number(t)])
            #expect(bad.status == 400 && bad.errorCode == "invalid_target_recall")
        }
        let after = try await s.call("GET", "/v1/spaces/sp/index")
        #expect(after.json?["factory"] == "HNSW4,efC24" && after.json?["target_recall"]?.doubleValue == 0.9)
        #expect(after.json?["recall"] == info.json?["recall"])
    }
}
