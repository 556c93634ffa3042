import Core
import Foundation
import Testing
import TestSupport
@testable import Server
import Teacher

/// `POST /v1/embed` over real HTTP, with the real MiniLM found where `swejepa serve` looks for it
/// (`DATA/models/all-MiniLM-L6-v2`), against (1) the Teacher module called in-process on its own
/// loaded copy of the model (same texts, layer, pooling, normalisation) and (2) for the default
/// (last layer, mean, normalised) the independent numpy reference of Tests/TeacherTests/Fixtures.
/// The test checks that the cases it compares really differ (layers, pooling, normalisation, texts),
/// so a server that answered with another layer or in another order would fail. Plus the documented
/// 4xx JSON errors.
@Suite(.serialized) struct EmbedRouteTests {
    static let repoRoot = PackagePaths.root
    static let modelDir: URL = PackagePaths.modelDirectory
    static var modelAvailable: Bool { FileManager.default.fileExists(atPath: modelDir.appendingPathComponent("model.safetensors").path) }

    /// The three texts of the numpy reference, then one more.
    static let reference: (texts: [String], pooled: [[Float]]) = {
        let url = repoRoot.appendingPathComponent("Tests/TeacherTests/Fixtures/bert_reference.json")
        let inputs = (JSONValue.parse((try? String(contentsOf: url, encoding: .utf8)) ?? "")?["inputs"]?.arrayValue) ?? []
        return (inputs.compactMap { $0["text"]?.stringValue },
                inputs.map { ($0["pooled_normalized"]?.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } })
    }()
    static var texts: [String] { reference.texts + ["for i in range(10):\n    print(i * i)"] }

    /// Same code, same inputs: only float summation order may differ between the server's pass and
    /// this one (OpenBLAS picks kernels and thread splits per call; BertForwardTests finds batched vs
    /// unbatched passes within 1e-5). A wrong layer, pooling, normalisation or text order moves
    /// components by far more than 1e-2, which the test checks on the in-process side.
    static let tolerance: Float = 1e-5
    /// The numpy reference's tolerance in TeacherTests (pooledEmbeddingMatchesSentenceTransformers).
    static let numpyTolerance: Float = 1e-5

    /// A server whose data directory holds the model under models/ (a symlink to the real folder).
    static func server() async throws -> LiveServer {
        try await LiveServer(model: modelDir)
    }

    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    static func vectors(_ r: LiveServer.Response) -> [[Float]] {
        (r.json?["vectors"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } }
    }

    struct Case: CustomStringConvertible {
        var layer: Int?, pooling: String?, normalize: Bool?
        var description: String { "layer \(layer.map(String.init) ?? "default") pooling \(pooling ?? "default") normalize \(normalize.map(String.init) ?? "default")" }
        var body: JSONValue {
            var b: [String: JSONValue] = ["texts": .array(EmbedRouteTests.texts.map { .string($0) })]
            if let layer { b["layer"] = .number(Double(layer)) }
            if let pooling { b["pooling"] = .string(pooling) }
            if let normalize { b["normalize"] = .bool(normalize) }
            return .object(b)
        }
    }

    @Test(.enabled(if: EmbedRouteTests.modelAvailable, "needs the teacher model (make model)"))
    func embedOverHTTPEqualsTheTeacherInProcess() async throws {
        try #require(Self.reference.texts.count == 3 && Self.reference.pooled.allSatisfy { $0.count == 384 })
        let embedder = FunctionEmbedder(model: try BertModel.load(directory: Self.modelDir))
        let last = embedder.model.layerCount
        #expect(last == 6)
        let s = try await Self.server()
        defer { Task { await s.stop() } }

        let cases = [Case(), Case(layer: 6), Case(layer: 3), Case(layer: 0), Case(layer: 1, pooling: "cls"),
                     Case(layer: 4, normalize: false), Case(layer: 2, pooling: "mean", normalize: true)]
        var direct = [String: [[Float]]]()
        for c in cases {
            let want = try embedder.embed(texts: Self.texts, layer: c.layer ?? last, pooling: c.pooling == "cls" ? .cls : .mean,
                                          normalize: c.normalize ?? true)
            direct[c.description] = want
            let r = try await s.call("POST", "/v1/embed", json: c.body)
            #expect(r.status == 200, "\(c): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
            #expect(r.json?["model"] == "all-MiniLM-L6-v2" && r.json?["dim"] == 384, "\(c)")
            #expect(r.json?["layer"]?.intValue == (c.layer ?? last), "\(c)")
            let got = Self.vectors(r)
            #expect(got.count == want.count, "\(c)")
            for (i, (g, w)) in zip(got, want).enumerated() {
                let diff = Self.maxAbsDiff(g, w)
                #expect(diff <= Self.tolerance, "\(c) text \(i): max abs diff \(diff)")
            }
        }
        // What the comparisons can tell apart, on the in-process side.
        let d = { (a: Case, b: Case, i: Int) in Self.maxAbsDiff(direct[a.description]![i], direct[b.description]![i]) }
        for i in Self.texts.indices {
            #expect(d(Case(layer: 6), Case(layer: 3), i) > 1e-2 && d(Case(layer: 3), Case(layer: 0), i) > 1e-2)
            #expect(d(Case(layer: 2, pooling: "mean", normalize: true), Case(layer: 3), i) > 1e-2)
            for j in Self.texts.indices where j != i {
                #expect(Self.maxAbsDiff(direct[Case(layer: 3).description]![i], direct[Case(layer: 3).description]![j]) > 1e-2)
            }
            let raw = direct[Case(layer: 4, normalize: false).description]![i]
            #expect(abs(raw.reduce(0) { $0 + $1 * $1 }.squareRoot() - 1) > 0.1)
            let cls = direct[Case(layer: 1, pooling: "cls").description]![i]
            let mean1 = try embedder.embed(texts: [Self.texts[i]], layer: 1)[0]
            #expect(Self.maxAbsDiff(cls, mean1) > 1e-2)
        }

        // The default against the numpy reference (independent of this code base's forward pass).
        let plain = try await s.call("POST", "/v1/embed", json: ["texts": .array(Self.reference.texts.map { .string($0) })])
        let got = Self.vectors(plain)
        #expect(got.count == 3)
        for (i, (g, w)) in zip(got, Self.reference.pooled).enumerated() {
            #expect(Self.maxAbsDiff(g, w) <= Self.numpyTolerance, "reference text \(i): \(Self.maxAbsDiff(g, w))")
        }

        // .npy answers (Accept header and ?format=npy) hold the same numbers.
        let want3 = direct[Case(layer: 3).description]!
        for (path, headers) in [("/v1/embed", ["Accept": "application/x-npy"]), ("/v1/embed?format=npy", [:])] {
            let r = try await s.call("POST", path, json: Case(layer: 3).body, headers: headers)
            #expect(r.status == 200 && r.headers["content-type"] == "application/x-npy", "\(path)")
            let array = try NPYArray(data: r.body)
            #expect(array.shape == [Self.texts.count, 384])
            let flat = try array.floats()
            for i in want3.indices {
                #expect(Self.maxAbsDiff(Array(flat[(i * 384)..<((i + 1) * 384)]), want3[i]) <= Self.tolerance, "\(path) text \(i)")
            }
        }
    }

    @Test(.enabled(if: EmbedRouteTests.modelAvailable, "needs the teacher model (make model)"))
    func badEmbedRequestsAreDocumented4xxJSON() async throws {
        let s = try await Self.server()
        defer { Task { await s.stop() } }
        let cases: [(String, Int, String)] = [
            (#"{"texts": []}"#, 400, "invalid_parameter"),
            (#"{"texts": [\#((0...256).map { "\"t\($0)\"" }.joined(separator: ","))]}"#, 400, "invalid_parameter"),
            (#"{"texts": ["x"], "layer": 7}"#, 422, "invalid_parameter"),   // beyond this model's layers
            (#"{"texts": ["x"], "layer": -1}"#, 400, "invalid_parameter"),  // outside the schema's 0...1000
            (#"{"texts": ["x"], "layer": 1000}"#, 422, "invalid_parameter"),
            (#"{"texts": ["x"], "layer": 1001}"#, 400, "invalid_parameter"),
            (#"{"texts": ["x"], "pooling": "max"}"#, 400, "invalid_parameter"),
            (#"{"texts": ["x"], "model": "no-such-model"}"#, 422, "unknown_model"),
            (#"{"layer": 3}"#, 400, "invalid_json"),
            (#"{"texts": "x"}"#, 400, "invalid_json"),
            (#"{"texts": ["x"], "layer": "three"}"#, 400, "invalid_json"),
        ]
        for (body, status, code) in cases {
            let r = try await s.call("POST", "/v1/embed", body: Data(body.utf8), contentType: "application/json")
            #expect(r.status == status && r.errorCode == code, "\(body.prefix(60)): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
            #expect(r.headers["content-type"] == "application/json")
            #expect((r.json?["error"]?["message"]?.stringValue ?? "").isEmpty == false)
        }
        // The edges of the valid ranges work: 256 texts, layers 0 and 6.
        let many = try await s.call("POST", "/v1/embed", json: ["texts": .array((0..<256).map { .string("t\($0)") }), "layer": 0])
        #expect(many.status == 200 && Self.vectors(many).count == 256)
        #expect(try await s.call("POST", "/v1/embed", json: ["texts": ["x"], "layer": 6]).status == 200)
    }
}
