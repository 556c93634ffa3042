import Core
import Foundation
import Testing
import TestSupport
@testable import Server

/// "A bad batch changes nothing", by content: batches whose first items UPDATE existing rows (function
/// bodies, stored vectors) and whose last item is bad are refused with a 4xx, and every function, every
/// stored vector (JSON and .npz bytes), the space list, the store counts and the live FAISS index
/// answer exactly as before. The same valid prefixes, sent alone at the end, do change those answers,
/// so the comparison is shown to see the changes the bad batches would have made.
@Suite struct BadBatchTests {
    static let dim = 4

    /// Six functions in two repositories, a space with a vector for each.
    func load(_ s: LiveServer) async throws -> [Int64] {
        let functions = JSONValue.object(["functions": .array((0..<6).map { i in
            ["repo": .string("repo\(i % 2)"), "path": "m.py", "qualified_name": .string("f\(i)"), "start_line": 1, "end_line": 2,
             "signature": .string("def f\(i)():"), "body": .string("    return \(i)\n"), "properties": ["n": .number(Double(i))]]
        })])
        let ids = (try await s.call("POST", "/v1/functions", json: functions).json?["ids"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int64.init) }
        try #require(ids.count == 6)
        #expect(try await s.call("POST", "/v1/spaces", json: ["name": "sp", "kind": "body_mean", "dim": .number(Double(Self.dim))]).status == 201)
        let vectors = (0..<6).flatMap { i in (0..<Self.dim).map { j in Float(i * 10 + j) + 0.5 } }
        let put = try await s.call("PUT", "/v1/spaces/sp/vectors?ids=" + ids.map(String.init).joined(separator: ","),
                                   body: NPYArray(floats: vectors, shape: [6, Self.dim]).encoded(), contentType: "application/x-npy")
        #expect(put.status == 200)
        return ids
    }

    /// Everything a client can read back about the rows a batch could touch.
    struct Snapshot: Equatable {
        var functions: Data, oneByOne: [Data], spaces: Data, vectorsJSON: Data, vectorsNPZ: Data, counts: JSONValue?
        var search: [[Int64]], scores: [[Double]]
    }

    func snapshot(_ s: LiveServer, _ ids: [Int64]) async throws -> Snapshot {
        var one = [Data]()
        for id in ids { one.append(try await s.call("GET", "/v1/functions/\(id)").body) }
        var store = try await s.call("GET", "/v1/stats").json?["store"]?.objectValue ?? [:]
        store["database_bytes"] = nil  // the file size is not content (a rolled-back transaction may grow the WAL)
        var search = [[Int64]](), scores = [[Double]]()
        for i in 0..<6 {  // each original vector as a query, through the live index
            let q = (0..<Self.dim).map { j in JSONValue.number(Double(i * 10 + j) + 0.5) }
            let r = try await s.call("POST", "/v1/spaces/sp/search", json: ["vectors": [.array(q)], "k": 6])
            let hits = r.json?["results"]?.arrayValue?.first?["hits"]?.arrayValue ?? []
            search.append(hits.compactMap { $0["id"]?.intValue.map(Int64.init) })
            scores.append(hits.compactMap { $0["score"]?.doubleValue }.map { ($0 * 1e5).rounded() / 1e5 })
        }
        return Snapshot(
            functions: try await s.call("GET", "/v1/functions?limit=1000").body, oneByOne: one,
            spaces: try await s.call("GET", "/v1/spaces").body,
            vectorsJSON: try await s.call("GET", "/v1/spaces/sp/vectors").body,
            vectorsNPZ: try await s.call("GET", "/v1/spaces/sp/vectors?format=npz").body,
            counts: .object(store), search: search, scores: scores)
    }

    @Test(arguments: Backend.all) func aBatchThatUpdatesRowsThenFailsChangesNoContent(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let ids = try await load(s)
        let before = try await snapshot(s, ids)
        try #require(before.search.allSatisfy { $0.count == 6 })
        let (a, b, c) = (ids[0], ids[1], ids[2])

        // Functions: items 1–2 change existing functions (body, signature, properties); item 3 is bad.
        func update(_ i: Int) -> String {
            #"{"repo": "repo\#(i % 2)", "path": "m.py", "qualified_name": "f\#(i)", "start_line": 1, "end_line": 3, "signature": "def f\#(i)(x):", "body": "    return x + \#(i)\n", "properties": {"n": -1}}"#
        }
        let prefix = update(0) + ", " + update(1)
        let functionCases: [(String, Int, String)] = [
            (#"{"repo": "repo0", "path": "m.py", "qualified_name": "new", "start_line": 5, "end_line": 2, "signature": "", "body": ""}"#, 422, "invalid_function"),
            (#"{"repo": "", "path": "m.py", "qualified_name": "new", "start_line": 1, "end_line": 2, "signature": "", "body": ""}"#, 400, "invalid_function"),
            (#"{"repo": "repo0", "path": "m.py", "qualified_name": "f2", "start_line": 1, "end_line": 2, "signature": "", "body": "", "properties": [1]}"#, 400, "invalid_function"),
            (update(0), 422, "duplicate_keys"),
            (#"{"repo": "repo0", "path": "m.py", "qualified_name": "new", "start_line": "one", "end_line": 2, "signature": "", "body": ""}"#, 400, "invalid_json"),
        ]
        for (bad, status, code) in functionCases {
            let r = try await s.call("POST", "/v1/functions", body: Data(#"{"functions": [\#(prefix), \#(bad)]}"#.utf8), contentType: "application/json")
            #expect(r.status == status && r.errorCode == code, "\(bad): \(String(decoding: r.body, as: UTF8.self))")
            #expect(try await snapshot(s, ids) == before, "functions batch ending in \(bad) changed stored content")
        }

        // Vectors: the first ids overwrite stored vectors, a later one is bad (unknown id, wrong width,
        // repeated id, NaN/Inf, bad base64), as JSON, base64, .npy and .npz.
        let fresh: [Float] = [-7, 3, 0.25, 9], fresh2: [Float] = [1, -1, 1, -1]
        func row(_ v: [Float]) -> JSONValue { .array(v.map { .number(Double($0)) }) }
        func b64(_ v: [Float]) -> JSONValue { .string(v.withUnsafeBufferPointer { Data(buffer: $0) }.base64EncodedString()) }
        func npy(_ rows: [[Float]]) -> Data { NPYArray(floats: rows.flatMap { $0 }, shape: [rows.count, rows[0].count]).encoded() }
        func npz(_ i: [Int64], _ rows: [[Float]]) throws -> Data {
            try NPZ.encode(["ids": NPYArray(int64s: i), "vectors": NPYArray(floats: rows.flatMap { $0 }, shape: [rows.count, rows[0].count])])
        }
        let unknown: Int64 = 987_654
        struct Case { var path: String; var body: Data; var type: String; var status: Int; var code: String }
        let json = "application/json", npyType = "application/x-npy", npzType = "application/x-npz"
        let list = { (i: [Int64]) in i.map(String.init).joined(separator: ",") }
        let vectorCases: [Case] = [
            Case(path: "", body: Data(JSONValue.object(["ids": [.number(Double(a)), .number(Double(b)), .number(Double(unknown))],
                                                        "vectors": [row(fresh), row(fresh2), row(fresh)]]).jsonString().utf8), type: json, status: 422, code: "unknown_function"),
            Case(path: "", body: Data(JSONValue.object(["ids": [.number(Double(a)), .number(Double(b)), .number(Double(c))],
                                                        "vectors": [row(fresh), row(fresh2), row([1, 2])]]).jsonString().utf8), type: json, status: 422, code: "wrong_dimension"),
            Case(path: "", body: Data(JSONValue.object(["ids": [.number(Double(a)), .number(Double(b)), .number(Double(a))],
                                                        "vectors": [row(fresh), row(fresh2), row(fresh)]]).jsonString().utf8), type: json, status: 400, code: "duplicate_ids"),
            Case(path: "", body: Data(JSONValue.object(["ids": [.number(Double(a)), .number(Double(b)), .number(Double(c))],
                                                        "vectors_b64": [b64(fresh), b64(fresh2), b64([1, .nan, 3, 4])]]).jsonString().utf8), type: json, status: 400, code: "non_finite"),
            Case(path: "", body: Data(JSONValue.object(["ids": [.number(Double(a)), .number(Double(b)), .number(Double(c))],
                                                        "vectors_b64": [b64(fresh), b64(fresh2), "@@@"]]).jsonString().utf8), type: json, status: 400, code: "invalid_base64"),
            Case(path: "?ids=" + list([a, b, unknown]), body: npy([fresh, fresh2, fresh]), type: npyType, status: 422, code: "unknown_function"),
            Case(path: "?ids=" + list([a, b, c]), body: npy([fresh, fresh2, [1, 2, .infinity, 4]]), type: npyType, status: 400, code: "non_finite"),
            Case(path: "?ids=" + list([a, b]), body: npy([fresh, fresh2, fresh]), type: npyType, status: 422, code: "wrong_dimension"),
            Case(path: "", body: try npz([a, b, unknown], [fresh, fresh2, fresh]), type: npzType, status: 422, code: "unknown_function"),
            Case(path: "", body: try npz([a, b, a], [fresh, fresh2, fresh]), type: npzType, status: 400, code: "duplicate_ids"),
            Case(path: "", body: try npz([a, b, c], [fresh + [0], fresh2 + [0], fresh + [0]]), type: npzType, status: 422, code: "wrong_dimension"),
            Case(path: "", body: try npz([a, b, c], [fresh, fresh2, [.nan, 0, 0, 0]]), type: npzType, status: 400, code: "non_finite"),
        ]
        for (n, v) in vectorCases.enumerated() {
            let r = try await s.call("PUT", "/v1/spaces/sp/vectors" + v.path, body: v.body, contentType: v.type)
            #expect(r.status == v.status && r.errorCode == v.code, "vector case \(n): \(String(decoding: r.body, as: UTF8.self))")
            #expect(try await snapshot(s, ids) == before, "vector case \(n) (\(v.code)) changed stored content")
        }

        // The comparison sees what those prefixes would have done: sent alone, they change it.
        let goodFunctions = try await s.call("POST", "/v1/functions", body: Data(#"{"functions": [\#(prefix)]}"#.utf8), contentType: json)
        #expect(goodFunctions.status == 200 && goodFunctions.json?["updated"] == 2)
        let afterFunctions = try await snapshot(s, ids)
        #expect(afterFunctions.functions != before.functions && afterFunctions.oneByOne[0] != before.oneByOne[0]
                && afterFunctions.oneByOne[1] != before.oneByOne[1] && afterFunctions.spaces != before.spaces)  // two vectors now stale
        #expect(afterFunctions.oneByOne[2...] == before.oneByOne[2...])
        let goodVectors = try await s.call("PUT", "/v1/spaces/sp/vectors?ids=" + list([a, b]), body: npy([fresh, fresh2]), contentType: npyType)
        #expect(goodVectors.status == 200)
        let afterVectors = try await snapshot(s, ids)
        #expect(afterVectors.vectorsJSON != before.vectorsJSON && afterVectors.vectorsNPZ != before.vectorsNPZ)
        #expect(afterVectors.search != before.search || afterVectors.scores != before.scores)
        #expect(try await s.call("GET", "/v1/spaces/sp/vectors?ids=\(a),\(b)").json?["vectors"] == [row(fresh), row(fresh2)])
    }
}
