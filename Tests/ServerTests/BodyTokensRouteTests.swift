import Core
import Foundation
import Testing
import TestSupport
@testable import Jobs
@testable import Server
import Services
import Store
import Teacher

/// `body_tokens` spaces end to end on a real server (SQLite, and PostgreSQL when `SWEJEPA_TEST_PG`
/// is set): an embed job submitted over HTTP stores them as float16 equal to the teacher's float32
/// states; they upload and download like `sig_tokens` (.npz with `rows`, JSON matrices); bad uploads
/// change nothing; and search/neighbours treat them as they treat `sig_tokens`.
@Suite(.serialized) struct BodyTokensRouteTests {
    static let name = "all-MiniLM-L6-v2.L\(TextSearchTests.layer)"

    /// Float16 keeps 11 significant bits: a relative error of at most 2⁻¹¹ (1e-3 here). `floor`: the
    /// absolute error allowed near zero (2⁻²⁵ below float16's smallest normal; states computed in
    /// other batches also differ by float32 rounding, ~1e-5 for MiniLM).
    static func closeInFloat16(_ stored: [Float], _ exact: [Float], floor: Float = 1e-7) -> Bool {
        stored.count == exact.count && zip(stored, exact).allSatisfy { abs($0 - $1) <= 1e-3 * abs($1) + floor }
    }

    static func npz(_ r: LiveServer.Response) throws -> (ids: [Int64], rows: [Int64], values: [Float], shape: [Int]) {
        let z = try NPZ.decode(r.body)
        let v = try #require(z["vectors"])
        return (try #require(z["ids"]).int64s(), try #require(z["rows"]).int64s(), try v.floats(), v.shape)
    }

    @Test(.enabled(if: TextSearchTests.modelAvailable, "needs the teacher model (make model)"), arguments: Backend.all)
    func anEmbedJobStoresFloat16BodyTokensEqualToTheTeacher(_ backend: Backend) async throws {
        let s = try await LiveServer(backend, model: PackagePaths.modelDirectory, jobs: .init())
        defer { Task { await s.stop() } }
        let ids = try await s.store.upsertFunctions(TextSearchTests.corpus).ids
        let job = try await s.call("POST", "/v1/jobs", json: ["type": "embed", "layers": [.number(Double(TextSearchTests.layer))],
                                                              "kinds": ["body_mean", "body_tokens", "sig_tokens"]])
        #expect(job.status == 201 || job.status == 202, "\(job.json?.jsonString() ?? "")")
        try await TextSearchTests.finish(s, Int64(try #require(job.json?["id"]?.intValue)))
        let tokens = try await s.call("GET", "/v1/spaces/\(Self.name).body_tokens")
        #expect(tokens.json?["dtype"] == "float16" && tokens.json?["kind"] == "body_tokens" && tokens.json?["count"] == .number(Double(ids.count)))
        #expect(try await s.call("GET", "/v1/spaces/\(Self.name).body_mean").json?["dtype"] == "float32")
        #expect(try await s.call("GET", "/v1/spaces/\(Self.name).sig_tokens").json?["dtype"] == "float32")

        // The teacher's float32 states, computed here for the same texts.
        let model = try BertModel.load(directory: PackagePaths.modelDirectory)
        let texts = TextSearchTests.corpus.map { FunctionText(signature: $0.signature, body: $0.body) }
        let exact = try FunctionEmbedder(model: model).embed(functions: texts, layers: [TextSearchTests.layer], kinds: [.bodyTokens])
        let got = try Self.npz(try await s.call("GET", "/v1/spaces/\(Self.name).body_tokens/vectors?format=npz"))
        #expect(got.ids == ids.sorted() && got.shape.last == 384)
        var offset = 0
        for (i, id) in got.ids.enumerated() {
            let k = try #require(ids.firstIndex(of: id))
            let want = try #require(exact[k].vector(layer: TextSearchTests.layer, kind: .bodyTokens))
            #expect(Int(got.rows[i]) == exact[k].tokenCounts[.bodyTokens] && want.count == Int(got.rows[i]) * 384, "function \(id)")
            let stored = Array(got.values[offset..<(offset + Int(got.rows[i]) * 384)])
            let worst = zip(stored, want).map { abs($0 - $1) / (abs($1) + 1e-4) }.max() ?? 0
            #expect(Self.closeInFloat16(stored, want, floor: 1e-4), "function \(id): worst relative error \(worst)")
            offset += Int(got.rows[i]) * 384
        }
        #expect(offset == got.values.count)

        // An explicit dtype makes new spaces of that type; an existing space keeps its own.
        let again = try await s.call("POST", "/v1/jobs", json: ["type": "embed", "layers": [.number(Double(TextSearchTests.layer))],
                                                                "kinds": ["body_tokens", "sig_mean"], "dtype": "float16"])
        try await TextSearchTests.finish(s, Int64(try #require(again.json?["id"]?.intValue)))
        #expect(try await s.call("GET", "/v1/spaces/\(Self.name).sig_mean").json?["dtype"] == "float16")
        let stored = try await s.call("GET", "/v1/spaces/\(Self.name).body_tokens/vectors?format=npz").body
        let kept = try await s.call("POST", "/v1/jobs", json: ["type": "embed", "layers": [.number(Double(TextSearchTests.layer))],
                                                               "kinds": ["body_tokens"], "dtype": "float32"])
        try await TextSearchTests.finish(s, Int64(try #require(kept.json?["id"]?.intValue)))
        #expect(try await s.call("GET", "/v1/spaces/\(Self.name).body_tokens").json?["dtype"] == "float16")
        #expect(try await s.call("GET", "/v1/spaces/\(Self.name).body_tokens/vectors?format=npz").body == stored)

        // Search and neighbours answer a body_tokens space as they answer a sig_tokens one.
        let query: JSONValue = ["vectors": [.array([Float](repeating: 0.1, count: 384).map { .number(Double($0)) })], "k": 3]
        let sig = try await s.call("POST", "/v1/spaces/\(Self.name).sig_tokens/search", json: query)
        let body = try await s.call("POST", "/v1/spaces/\(Self.name).body_tokens/search", json: query)
        #expect(sig.status >= 400 && sig.status < 500 && body.status == sig.status && body.errorCode == sig.errorCode,
                "search: \(sig.status) \(sig.errorCode ?? "") vs \(body.status) \(body.errorCode ?? "")")
        let sigN = try await s.call("GET", "/v1/spaces/\(Self.name).sig_tokens/neighbours?function_id=\(ids[0])")
        let bodyN = try await s.call("GET", "/v1/spaces/\(Self.name).body_tokens/neighbours?function_id=\(ids[0])")
        #expect(bodyN.status == sigN.status && bodyN.errorCode == sigN.errorCode, "\(sigN.status) vs \(bodyN.status)")
    }

    @Test(arguments: Backend.all) func bodyTokensRoundTripAsNPZAndJSONAndBadUploadsChangeNothing(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let ids = try #require(try await s.call("POST", "/v1/functions", json: sampleFunctions).json?["ids"]?.arrayValue).map { Int64($0.intValue!) }
        let created = try await s.call("POST", "/v1/spaces", json: ["name": "bt", "kind": "body_tokens", "dim": 4])
        #expect(created.status == 201 && created.json?["dtype"] == "float16")
        let explicit = try await s.call("POST", "/v1/spaces", json: ["name": "bt32", "kind": "body_tokens", "dim": 4, "dtype": "float32"])
        #expect(explicit.json?["dtype"] == "float32")

        // Three matrices of 3, 1 and 2 rows: values float16 holds exactly and values it rounds.
        var rng = SplitMix64(seed: 16)
        let rows: [Int64] = [3, 1, 2]
        var values = [Float]()
        for i in 0..<(6 * 4) {
            let random = Double(rng.next() % 2_000_000) / 1_000 - 1_000
            values.append(i % 2 == 0 ? Float(i) / 8 : Float(random))
        }
        func npz(_ ids: [Int64], _ rows: [Int64], _ values: [Float]) throws -> Data {
            try NPZ.encode(["ids": NPYArray(int64s: ids), "rows": NPYArray(int64s: rows),
                            "vectors": NPYArray(floats: values, shape: [values.count / 4, 4])])
        }
        let put = try await s.call("PUT", "/v1/spaces/bt/vectors", body: try npz(ids, rows, values), contentType: "application/x-npz")
        #expect(put.status == 200 && put.json?["upserted"] == 3, "\(put.json?.jsonString() ?? "")")
        let down = try await s.call("GET", "/v1/spaces/bt/vectors?format=npz")
        let got = try Self.npz(down)
        #expect(got.ids == ids && got.rows == rows && got.shape == [6, 4])
        // Stored as float16: each value rounds to nearest even, as Swift's Float16 conversion does.
        #expect(got.values == values.map { Float(Float16($0)) })
        #expect(Self.closeInFloat16(got.values, values), "\(got.values) vs \(values)")
        // The downloaded .npz uploads again unchanged, into a float16 and into a float32 space.
        for space in ["bt", "bt32"] {
            #expect(try await s.call("PUT", "/v1/spaces/\(space)/vectors", body: down.body, contentType: "application/x-npz").status == 200)
            let back = try Self.npz(try await s.call("GET", "/v1/spaces/\(space)/vectors?format=npz"))
            #expect(back.ids == got.ids && back.rows == got.rows && back.values == got.values, "\(space)")
        }
        // JSON: one matrix per id, read back as JSON matrices.
        let json = try await s.call("GET", "/v1/spaces/bt/vectors?ids=\(ids[1]),\(ids[0])")
        let matrices = try #require(json.json?["vectors"]?.arrayValue)
        #expect(matrices.map { $0.arrayValue?.count ?? -1 } == [1, 3])
        #expect(try await s.call("PUT", "/v1/spaces/bt32/vectors", json: ["ids": [.number(Double(ids[1]))], "vectors": .array([matrices[0]])]).status == 200)

        // Bad uploads: rows that disagree with the matrix, a missing `rows`, a value beyond float16.
        let before = try await s.call("GET", "/v1/spaces/bt/vectors?format=npz").body
        let beforeSpace = try await s.call("GET", "/v1/spaces/bt").json?["count"]
        var huge = values
        huge[13] = 70_000
        let bad: [(Data, Int, String)] = [
            (try npz(ids, [3, 1, 1], values), 422, "wrong_dimension"),
            (try npz(ids, [3, 2, 2], values), 422, "wrong_dimension"),
            (try npz(ids, [6, 0, 0], values), 422, "wrong_dimension"),
            (try NPZ.encode(["ids": NPYArray(int64s: ids), "vectors": NPYArray(floats: values, shape: [6, 4])]), 400, "missing_rows"),
            (try npz(ids, rows, huge), 400, "out_of_range"),
        ]
        for (n, (body, status, code)) in bad.enumerated() {
            let r = try await s.call("PUT", "/v1/spaces/bt/vectors", body: body, contentType: "application/x-npz")
            #expect(r.status == status && r.errorCode == code, "case \(n): \(String(decoding: r.body, as: UTF8.self))")
            #expect(try await s.call("GET", "/v1/spaces/bt/vectors?format=npz").body == before, "case \(n) changed the vectors")
            #expect(try await s.call("GET", "/v1/spaces/bt").json?["count"] == beforeSpace)
        }
        // The same large value fits a float32 space.
        #expect(try await s.call("PUT", "/v1/spaces/bt32/vectors", body: try npz(ids, rows, huge), contentType: "application/x-npz").status == 200)
    }
}
