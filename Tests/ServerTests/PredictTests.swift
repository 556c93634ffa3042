import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
@testable import Jobs
@testable import Server
import Store

/// `POST /v1/predict` end to end: real functions, the real teacher (sig_tokens of layer 1), a body
/// target that is a fixed random linear map of the signature mean, a tiny student trained by a real
/// job; predictions by function id must equal the stored student space, predictions from the same
/// signature texts (through the teacher) must equal those.
@Suite(.serialized) struct PredictTests {
    static let repoRoot = PackagePaths.root
    static let modelDir: URL = PackagePaths.modelDirectory
    static var modelAvailable: Bool { FileManager.default.fileExists(atPath: modelDir.appendingPathComponent("config.json").path) }

    /// A real server with a job runner and search (`LiveServer` with `jobs:`) whose data directory
    /// holds the model under models/ (a symlink to the real folder).
    final class Service: @unchecked Sendable {
        let live: LiveServer
        var store: any StoreBackend { live.store }
        var runner: JobRunner { live.runner! }
        init(_ backend: Backend) async throws { live = try await LiveServer(backend, model: PredictTests.modelDir, jobs: .init()) }

        func stop() async { await live.stop() }

        /// A validated POST (`LiveServer.call`): status, body, and the body as JSON.
        func post(_ path: String, _ body: JSONValue, accept: String? = nil) async throws -> (Int, Data, JSONValue?) {
            let r = try await live.call("POST", path, json: body, headers: accept.map { ["Accept": $0] } ?? [:])
            return (r.status, r.body, r.json)
        }

        func finish(_ id: Int64, seconds: Double = 120) async throws -> JobRecord {
            let store = self.store
            _ = try await eventually(seconds) { try await store.job(id: id)?.state.isFinal == true }
            return try #require(try await store.job(id: id))
        }
    }

    static func vectors(_ json: JSONValue?) -> [Float] {
        (json?["vectors"]?.arrayValue ?? []).flatMap { ($0.arrayValue ?? []).map { Float($0.doubleValue ?? .nan) } }
    }

    @Test(.enabled(if: PredictTests.modelAvailable, "needs the teacher model (make model)"), arguments: Backend.all)
    func predictionsByIdAndBySignatureMatchTheStudentSpaceAndErrorsAreClear(_ backend: Backend) async throws {
        let s = try await Service(backend)
        defer { Task { await s.stop() } }
        let types = ["int", "str", "list[str]", "dict", "bool", "float", "bytes", "None"]
        let verbs = ["load", "parse", "render", "merge", "split", "validate", "encode", "fetch", "sort", "count"]
        var items = [FunctionInput]()
        for r in 0..<3 {
            for i in 0..<30 {
                let sig = "def \(verbs[i % verbs.count])_\(["config", "tokens", "rows", "path", "user"][(i + r) % 5])\(i)(self, value: \(types[i % 8]), limit: int = \(r + i)) -> \(types[(i + r) % 8]):"
                items.append(FunctionInput(repo: "repo\(r)", path: "m\(i % 4).py", qualifiedName: "f\(r)_\(i)", startLine: 1, endLine: 2,
                                           signature: sig, body: "    return \(r * 100 + i)\n"))
            }
        }
        let ids = try await s.store.upsertFunctions(items).ids
        let embed = try await s.runner.submit(type: "embed", params: ["model": "all-MiniLM-L6-v2", "layers": [1], "kinds": ["sig_tokens"]])
        let embedded = try await s.finish(embed.id)
        #expect(embedded.state == .succeeded, "embed: \(embedded.error ?? "")")
        let input = "all-MiniLM-L6-v2.L1.sig_tokens", target = "synthetic.body_mean"

        // Targets: a fixed random linear map of the signature mean, plus noise.
        let tokens = try await s.store.vectors(space: input, ids: ids)
        let d = 384
        var rng = SplitMix(seed: 5)
        let w = (0..<(d * d)).map { _ in Float(rng.symmetric() * (3.0 / Double(d)).squareRoot()) }
        var targets = [Float](), row = 0
        for r in tokens.rows {
            var mean = [Float](repeating: 0, count: d)
            for t in 0..<r { for j in 0..<d { mean[j] += tokens.values[(row + t) * d + j] / Float(r) } }
            row += r
            for k in 0..<d {
                var v: Float = 0
                for j in 0..<d { v += w[k * d + j] * mean[j] }
                targets.append(v + Float(0.01 * rng.symmetric()))
            }
        }
        _ = try await s.store.createSpace(SpaceInput(name: target, kind: .bodyMean, dim: d))
        try await s.store.upsertVectors(space: target, VectorBatch(ids: tokens.ids, values: targets))

        let train = try await s.runner.submit(type: "train", params: [
            "input_space": .string(input), "target_space": .string(target), "model": "sig_predictor", "loss": "smooth_l1",
            "d_model": 32, "layers": 1, "heads": 4, "ffn": 64, "epochs": 2, "batch_size": 16, "patience": 0,
        ])
        let trained = try await s.finish(train.id)
        #expect(trained.state == .succeeded, "train: \(trained.error ?? "")")
        let student = try #require(trained.result?["output_space"]?.stringValue)

        // By function id: the stored student vectors.
        let some = Array(ids.prefix(6))
        let idsJSON = JSONValue.array(some.map { .number(Double($0)) })
        let (status, _, byID) = try await s.post("/v1/predict", ["job_id": .number(Double(train.id)), "function_ids": idsJSON])
        #expect(status == 200, "\(byID?.jsonString() ?? "")")
        #expect(byID?["dim"] == 384 && byID?["ids"] == idsJSON && byID?["output_space"] == .string(student))
        let predicted = Self.vectors(byID)
        let stored = try await s.store.vectors(space: student, ids: some).values
        let diffStored = zip(predicted, stored).map { abs($0 - $1) }.max() ?? .infinity
        print("predict by id vs student space: max abs diff \(diffStored)")
        #expect(predicted.count == some.count * d && diffStored <= 1e-5)

        // By signature text: the teacher runs on the texts, then the student.
        let sigs = JSONValue.array(some.map { id in .string(items[ids.firstIndex(of: id)!].signature) })
        let (s2, _, bySig) = try await s.post("/v1/predict", ["job_id": .number(Double(train.id)), "signatures": sigs])
        #expect(s2 == 200, "\(bySig?.jsonString() ?? "")")
        let fromText = Self.vectors(bySig)
        let diffText = zip(fromText, predicted).map { abs($0 - $1) }.max() ?? .infinity
        print("predict by signature text vs by id: max abs diff \(diffText)")
        #expect(fromText.count == predicted.count && diffText <= 1e-4)

        // A checkpoint directory instead of a job, and .npy / .npz answers. Equal up to float rounding:
        // BLAS may split sums differently from call to call under load.
        func close(_ a: [Float]?, _ b: [Float]) -> Bool {
            guard let a, a.count == b.count else { return false }
            return zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 }
        }
        let (s3, _, byDir) = try await s.post("/v1/predict", ["checkpoint": .string("job-\(train.id)"), "function_ids": idsJSON])
        #expect(s3 == 200 && close(Self.vectors(byDir), predicted))
        let (s4, npy, _) = try await s.post("/v1/predict", ["job_id": .number(Double(train.id)), "function_ids": idsJSON], accept: "application/x-npy")
        let array = try NPYArray(data: npy)
        let npyValues = try array.floats()
        #expect(s4 == 200 && array.shape == [some.count, d] && close(npyValues, predicted))
        let (s5, npz, _) = try await s.post("/v1/predict", ["job_id": .number(Double(train.id)), "function_ids": idsJSON, "format": "npz"])
        let arrays = try NPZ.decode(npz)
        let npzValues = try arrays["vectors"]?.floats(), npzIDs = try arrays["ids"]?.int64s()
        #expect(s5 == 200 && close(npzValues, predicted) && npzIDs == some)

        // Errors.
        let cancelled = try await s.store.createJob(type: "train", params: ["input_space": "a", "target_space": "b"], maxAttempts: 1)
        _ = try await s.store.requestCancel(job: cancelled.id)
        let cases: [(JSONValue, Int, String)] = [
            (["job_id": 99999, "function_ids": idsJSON], 404, "unknown_job"),
            (["job_id": .number(Double(embed.id)), "function_ids": idsJSON], 422, "not_a_train_job"),
            (["job_id": .number(Double(cancelled.id)), "function_ids": idsJSON], 409, "job_not_finished"),
            (["job_id": .number(Double(train.id)), "function_ids": [99999]], 422, "unknown_function"),
            (["job_id": .number(Double(train.id)), "function_ids": []], 400, "invalid_parameter"),
            (["job_id": .number(Double(train.id))], 400, "invalid_parameter"),
            (["job_id": .number(Double(train.id)), "function_ids": idsJSON, "signatures": sigs], 400, "invalid_parameter"),
            (["function_ids": idsJSON], 400, "invalid_parameter"),
            (["job_id": .number(Double(train.id)), "checkpoint": "job-1", "function_ids": idsJSON], 400, "invalid_parameter"),
            (["checkpoint": "../../etc", "function_ids": idsJSON], 422, "invalid_checkpoint_path"),
            (["checkpoint": "/tmp", "function_ids": idsJSON], 422, "invalid_checkpoint_path"),
            (["checkpoint": "job-99999", "function_ids": idsJSON], 404, "unknown_checkpoint"),
            (["job_id": "seven", "function_ids": idsJSON], 400, "invalid_json"),
            (["job_id": .number(Double(train.id)), "function_ids": idsJSON, "format": "csv"], 400, "invalid_parameter"),
        ]
        for (body, want, code) in cases {
            let (status, _, json) = try await s.post("/v1/predict", body)
            #expect(status == want && json?["error"]?["code"]?.stringValue == code, "\(body.jsonString()) → \(status) \(json?.jsonString() ?? "")")
        }
    }
}

/// SplitMix64 (test data only).
struct SplitMix {
    var base: SplitMix64
    init(seed: UInt64) { base = SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { base.next() }
    /// Uniform in [-1, 1).
    mutating func symmetric() -> Double { Double(next() >> 11) / Double(1 << 52) - 1 }
}
