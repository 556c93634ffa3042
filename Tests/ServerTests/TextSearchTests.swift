import Core
import Foundation
import Testing
import TestSupport
@testable import Jobs
@testable import Server
import Services
import Store

/// `POST /v1/spaces/{name}/search {"texts": […]}` end to end: a real server (SQLite and PostgreSQL),
/// the real teacher, spaces made by a real embed job and a student made by a real train job. A text
/// equal to a stored function's must find that function first with score ≈ 1 in every teacher kind;
/// a student space's text search must equal `/v1/predict` followed by a vector search.
@Suite(.serialized) struct TextSearchTests {
    static var modelAvailable: Bool { PackagePaths.modelDirectory(holding: "config.json") != nil }
    static let layer = 2

    /// Small but realistic functions in three repositories (signature and body as ingest splits them).
    static let corpus: [FunctionInput] = {
        let defs: [(String, String, String, String)] = [
            ("io", "io/json.py", "def read_json(path):", "    with open(path) as f:\n        return json.load(f)\n"),
            ("io", "io/json.py", "def write_json(path, value):", "    with open(path, \"w\") as f:\n        json.dump(value, f, indent=2)\n"),
            ("io", "io/text.py", "def count_lines(path):\n    \"\"\"Number of lines in a text file.\"\"\"",
             "    with open(path) as f:\n        return sum(1 for _ in f)\n"),
            ("io", "io/net.py", "async def fetch(session, url):", "    async with session.get(url) as r:\n        return await r.text()\n"),
            ("math", "math/stats.py", "def mean(values):", "    return sum(values) / len(values)\n"),
            ("math", "math/stats.py", "def variance(values):", "    m = mean(values)\n    return sum((v - m) ** 2 for v in values) / len(values)\n"),
            ("math", "math/geometry.py", "@staticmethod\ndef distance(a, b):", "    return ((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5\n"),
            ("math", "math/parse.py", "def parse_int(text, default=0):", "    try:\n        return int(text)\n    except ValueError:\n        return default\n"),
            ("text", "text/case.py", "def snake_case(name):", "    return re.sub(r\"(?<!^)(?=[A-Z])\", \"_\", name).lower()\n"),
            ("text", "text/case.py", "def title_words(text):", "    return \" \".join(w.capitalize() for w in text.split())\n"),
            ("text", "text/wrap.py", "def wrap(text, width=80):", "    return textwrap.fill(text, width)\n"),
            // A method: ingest keeps its indentation; pasted alone, it is still a whole function.
            ("text", "text/box.py", "    @property\n    def area(self):", "        return self.width * self.height\n"),
        ]
        return defs.enumerated().map { i, d in
            FunctionInput(repo: d.0, path: d.1, qualifiedName: d.2.split(separator: "(")[0].split(separator: " ").last.map(String.init) ?? "f\(i)",
                          startLine: 1 + 10 * i, endLine: 5 + 10 * i, signature: d.2, body: d.3)
        }
    }()

    /// A server holding the corpus, embedded at `layer` in `kinds` by a real embed job.
    static func server(_ backend: Backend, kinds: [String]) async throws -> (LiveServer, [Int64]) {
        let s = try await LiveServer(backend, model: PackagePaths.modelDirectory, jobs: .init())
        let ids = try await s.store.upsertFunctions(corpus).ids
        let job = try await s.runner!.submit(type: "embed", params: ["layers": [.number(Double(layer))], "kinds": .array(kinds.map { .string($0) })])
        try await finish(s, job.id)
        return (s, ids)
    }

    static func finish(_ s: LiveServer, _ id: Int64, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let store = s.store
        _ = try await eventually(300) { try await store.job(id: id)?.state.isFinal == true }
        let job = try #require(try await store.job(id: id))
        #expect(job.state == .succeeded, "\(job.type): \(job.error ?? "")", sourceLocation: sourceLocation)
    }

    static func hits(_ r: LiveServer.Response, _ query: Int = 0) -> [(id: Int64, score: Double, repo: String)] {
        (r.json?["results"]?.arrayValue?[query]["hits"]?.arrayValue ?? []).map {
            (Int64($0["id"]?.intValue ?? -1), $0["score"]?.doubleValue ?? .nan, $0["repo"]?.stringValue ?? "")
        }
    }

    @Test(.enabled(if: TextSearchTests.modelAvailable, "needs the teacher model (make model)"), arguments: Backend.all)
    func aStoredFunctionsTextFindsItFirstInEveryTeacherKind(_ backend: Backend) async throws {
        let (s, ids) = try await Self.server(backend, kinds: ["sig_mean", "body_mean", "body_only_mean"])
        defer { Task { await s.stop() } }
        for kind in ["sig_mean", "body_mean", "body_only_mean"] {
            let space = "all-MiniLM-L6-v2.L\(Self.layer).\(kind)"
            // The whole function (split as ingest splits it), and the part the kind reads on its own.
            var texts = Self.corpus.map { $0.signature + "\n" + $0.body }
            // (Not for body_mean: its vectors read the body in the signature's context, which a body alone lacks.)
            if kind != "body_mean" { texts += Self.corpus.map { kind == "sig_mean" ? $0.signature : $0.body } }
            let r = try await s.call("POST", "/v1/spaces/\(space)/search", json: ["texts": .array(texts.map { .string($0) }), "k": 3])
            #expect(r.status == 200, "\(kind): \(r.json?.jsonString() ?? "")")
            for (q, text) in texts.enumerated() {
                let want = ids[q % ids.count]
                let top = Self.hits(r, q).first
                #expect(top?.id == want && abs((top?.score ?? 0) - 1) <= 1e-4,
                        "\(kind) text \(q) \(text.debugDescription): top \(String(describing: top)), want \(want)")
            }
        }
    }

    @Test(.enabled(if: TextSearchTests.modelAvailable, "needs the teacher model (make model)"), arguments: Backend.all)
    func reposFilterAsForVectorsAndBadInputsChangeNothing(_ backend: Backend) async throws {
        let (s, ids) = try await Self.server(backend, kinds: ["body_mean"])
        defer { Task { await s.stop() } }
        let space = "all-MiniLM-L6-v2.L\(Self.layer).body_mean", path = "/v1/spaces/\(space)/search"
        let f = Self.corpus[0], text = JSONValue.string(f.signature + "\n" + f.body)

        // `repos`: the same hits as a vector search with the function's stored vector.
        let stored = try await s.store.vectors(space: space, ids: [ids[0]]).values
        let byText = try await s.call("POST", path, json: ["texts": [text], "k": 4, "repos": ["math", "text"]])
        let byVector = try await s.call("POST", path, json: ["vectors": [.array(stored.map { .number(Double($0)) })], "k": 4, "repos": ["math", "text"]])
        #expect(byText.status == 200 && byVector.status == 200, "\(byText.json?.jsonString() ?? "") \(byVector.json?.jsonString() ?? "")")
        let t = Self.hits(byText), v = Self.hits(byVector)
        #expect(t.count == 4 && t.allSatisfy { $0.repo != "io" }, "\(t)")
        #expect(t.map(\.id) == v.map(\.id) && zip(t, v).allSatisfy { abs($0.score - $1.score) <= 1e-4 }, "\(t) vs \(v)")
        // `fields=ids` and several queries: one result per text, in order.
        let two = try await s.call("POST", path, json: ["texts": [text, .string(Self.corpus[4].signature + "\n" + Self.corpus[4].body)],
                                                         "k": 1, "fields": "ids"])
        #expect(two.status == 200 && Self.hits(two, 0).first?.id == ids[0] && Self.hits(two, 1).first?.id == ids[4], "\(two.json?.jsonString() ?? "")")
        #expect(two.json?["results"]?.arrayValue?[1]["query"]?.intValue == 1)

        // A space whose vectors were uploaded: 422 space_not_embeddable, for any kind it claims.
        let uploaded = try await s.call("POST", "/v1/spaces", json: ["name": "uploaded.body_mean", "kind": "body_mean", "dim": 384])
        #expect(uploaded.status == 201)
        let put = try await s.call("PUT", "/v1/spaces/uploaded.body_mean/vectors",
                                   json: ["ids": [.number(Double(ids[0]))], "vectors": [.array(stored.map { .number(Double($0)) })]])
        #expect(put.status == 200, "\(put.json?.jsonString() ?? "")")
        let refused = try await s.call("POST", "/v1/spaces/uploaded.body_mean/search", json: ["texts": [text]])
        #expect(refused.status == 422 && refused.errorCode == "space_not_embeddable", "\(refused.json?.jsonString() ?? "")")
        #expect(refused.json?["error"]?["message"]?.stringValue?.contains("uploaded") == true)

        // Bad inputs: a 4xx with its code, and the store as it was.
        let before = try await s.storeCounts()
        let tooLong = JSONValue.string(String(repeating: "x", count: SearchService.maxTextCharacters + 1))
        let cases: [(JSONValue, Int, String)] = [
            (["texts": []], 400, "invalid_query"),
            (["texts": [""]], 400, "invalid_query"),
            (["texts": [text, ""]], 400, "invalid_query"),
            (["texts": .array(Array(repeating: text, count: 257))], 400, "invalid_query"),
            (["texts": [text], "vectors": [.array(stored.map { .number(Double($0)) })]], 400, "invalid_query"),
            (["texts": [text], "function_ids": [.number(Double(ids[0]))]], 400, "invalid_query"),
            (["texts": [tooLong]], 400, "text_too_long"),
            (["texts": [1]], 400, "invalid_json"),
            (["texts": .null], 400, "invalid_json"),
            (["texts": [text], "k": 0], 400, "invalid_k"),
            (["texts": [text], "exclude_same_repo": true], 422, "invalid_query"),
            (["texts": [text], "exclude_duplicates": true], 422, "invalid_query"),
            (["texts": ["   \n  "]], 422, "empty_text"),
        ]
        for (body, status, code) in cases {
            let r = try await s.call("POST", path, json: body)
            #expect(r.status == status && r.errorCode == code, "\(body.jsonString().prefix(200)) → \(r.status) \(r.json?.jsonString() ?? "")")
        }
        let unknown = try await s.call("POST", "/v1/spaces/nope/search", json: ["texts": [text]])
        #expect(unknown.status == 404 && unknown.errorCode == "unknown_space")
        #expect(try await s.storeCounts() == before)
    }

    @Test(.enabled(if: TextSearchTests.modelAvailable, "needs the teacher model (make model)"), arguments: Backend.all)
    func aStudentSpacesTextSearchIsPredictThenVectorSearch(_ backend: Backend) async throws {
        let (s, _) = try await Self.server(backend, kinds: ["sig_tokens", "body_mean"])
        defer { Task { await s.stop() } }
        let train = try await s.runner!.submit(type: "train", params: [
            "input_space": .string("all-MiniLM-L6-v2.L\(Self.layer).sig_tokens"), "target_space": .string("all-MiniLM-L6-v2.L\(Self.layer).body_mean"),
            "model": "sig_predictor", "loss": "smooth_l1", "d_model": 32, "layers": 1, "heads": 4, "ffn": 64, "epochs": 2,
            "batch_size": 4, "patience": 0,
        ])
        try await Self.finish(s, train.id)
        let student = try #require(try await s.store.job(id: train.id)?.result?["output_space"]?.stringValue)
        let texts: [JSONValue] = [.string(Self.corpus[0].signature), .string(Self.corpus[5].signature), "def save_config(path, config):"]

        let predicted = try await s.call("POST", "/v1/predict", json: ["job_id": .number(Double(train.id)), "signatures": .array(texts)])
        #expect(predicted.status == 200, "\(predicted.json?.jsonString() ?? "")")
        let vectors = predicted.json?["vectors"] ?? .null
        let byVector = try await s.call("POST", "/v1/spaces/\(student)/search", json: ["vectors": vectors, "k": 5])
        let byText = try await s.call("POST", "/v1/spaces/\(student)/search", json: ["texts": .array(texts), "k": 5])
        #expect(byText.status == 200 && byVector.status == 200, "\(byText.json?.jsonString() ?? "")")
        for q in texts.indices {
            let t = Self.hits(byText, q), v = Self.hits(byVector, q)
            #expect(t.count == 5 && t.map(\.id) == v.map(\.id) && zip(t, v).allSatisfy { abs($0.score - $1.score) <= 1e-4 }, "query \(q): \(t) vs \(v)")
        }
        // The whole function searches by its signature in a student space.
        let whole = try await s.call("POST", "/v1/spaces/\(student)/search",
                                     json: ["texts": [.string(Self.corpus[0].signature + "\n" + Self.corpus[0].body)], "k": 5])
        #expect(Self.hits(whole).map(\.id) == Self.hits(byText, 0).map(\.id))

        // A student space without a train job behind it (uploaded vectors): refused.
        let fake = try await s.call("POST", "/v1/spaces", json: ["name": "fake.student", "kind": "student", "dim": 384])
        #expect(fake.status == 201)
        let refused = try await s.call("POST", "/v1/spaces/fake.student/search", json: ["texts": ["def f():"]])
        #expect(refused.status == 422 && refused.errorCode == "space_not_embeddable", "\(refused.json?.jsonString() ?? "")")
    }
}
