import Core
import Foundation
import Testing
import Training
@testable import Jobs
import Services
@testable import Store
import TestSupport

/// `model: token_decoder` through the `train` job: target token matrices from a token space (any
/// `kind.isTokens` space; here a second `sig_tokens` space stands in for `body_tokens`).
@Suite(.serialized) struct TrainJobTokenDecoderTests {
    /// Target tokens for all but the first `missing` functions: 1…9 rows each (some above the cap of 6),
    /// token t of a function = its body target + a position-dependent offset.
    static func addTargetTokens(_ store: any StoreBackend, _ corpus: SyntheticCorpus, missing: Int) async throws -> String {
        let name = "synthetic.L1.body_tokens_like", dt = SyntheticCorpus.dt
        _ = try await store.createSpace(SpaceInput(name: name, model: "synthetic", layer: 1, kind: .sigTokens, dim: dt))
        let targets = try await store.vectors(space: corpus.target, ids: corpus.ids)
        var rng = TestRNG(11)
        var batch = VectorBatch(ids: [], rows: [], values: [])
        for (i, id) in targets.ids.enumerated() where i >= missing {
            let rows = 1 + Int(rng.next() % 9)
            for t in 0..<rows {
                batch.values += (0..<dt).map { targets.values[i * dt + $0] + Float(t) * 0.1 * Float(($0 + t) % 3) + Float(0.05 * rng.normal()) }
            }
            batch.ids.append(id)
            batch.rows.append(rows)
        }
        try await store.upsertVectors(space: name, batch)
        return name
    }

    @Test func aTokenDecoderJobTrainsDropsFunctionsWithoutTargetTokensAndRefusesBadSpaces() async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(.sqlite)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open())
        let store = runner.store
        let corpus = try await SyntheticCorpus(store: store)
        let tokens = try await Self.addTargetTokens(store, corpus, missing: 5)
        var params = corpus.tinyParams.objectValue!
        params["model"] = "token_decoder"
        params["target_tokens_space"] = .string(tokens)
        params["max_target_tokens"] = 6
        params["decoder_layers"] = 1
        params["token_loss_weight"] = 0.5
        params["epochs"] = 3
        // At run time: a target tokens space of one vector per function fails the job (queued first).
        var notTokens = params
        notTokens["target_tokens_space"] = .string(corpus.sigMean)
        notTokens["output_space"] = "other"
        let failed = try await runner.submit(type: "train", params: .object(notTokens), maxAttempts: 1)
        let job = try await runner.submit(type: "train", params: .object(params))
        let r = try await TrainJobTests.finish(runner, job: job.id)
        let error = try await store.job(id: failed.id)?.error ?? ""
        #expect(error.contains("token matrices"), "\(error)")
        #expect(r["corpus_count"]?.intValue == corpus.ids.count - 5)
        let rank10 = try #require(r["test"]?["rank10"]?.doubleValue)
        let random10 = try #require(r["random_baseline"]?["rank10"]?.doubleValue)
        print("token_decoder job: test Rank@10 \(rank10), random \(random10)")
        #expect(rank10 > random10)
        #expect(r["config"]?["model"]?["kind"]?.stringValue == "token_decoder")
        #expect(r["config"]?["model"]?["max_target_tokens"]?.intValue == 6)
        // The stored student space has one vector per kept function; the checkpoint predicts the same.
        let out = try #require(r["output_space"]?.stringValue)
        let stored = try await store.vectors(space: out, ids: nil)
        #expect(stored.ids.count == corpus.ids.count - 5)
        let ckpt = TrainJob.checkpointDirectory(dir, job: job.id)
        let predictor = try Predictor(checkpoint: ckpt)
        let inputs = try await store.vectors(space: corpus.input, ids: [stored.ids[0]])
        let p = try predictor.predict(tokens: inputs.values, offsets: [0, inputs.rows[0]])
        #expect(maxAbsDiff(p, Array(stored.values[0..<SyntheticCorpus.dt])) < 1e-4)

        // Refused: token_decoder without target tokens, target tokens for another model (422 at submit).
        var without = params
        without["target_tokens_space"] = nil
        var other = params
        other["model"] = "sig_predictor"
        for bad in [without, other] {
            do {
                try runner.validate(type: "train", params: .object(bad))
                Issue.record("accepted \(bad)")
            } catch { #expect(APIError(error).status == 422, "\(error)") }
        }
    }
}
