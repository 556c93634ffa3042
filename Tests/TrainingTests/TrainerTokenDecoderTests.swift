import Foundation
import Testing
import Tensor
import TestSupport
@testable import Training

/// `token_decoder` through the Trainer: target tokens, checkpoints, resume and the Predictor.
@Suite(.ownThreads, .serialized) struct TrainerTokenDecoderTests {
    /// syntheticData plus 1…8 target tokens per function: token t = the function's target + t·(a fixed direction) + noise.
    static func data(count: Int = 240) throws -> TrainingData {
        let base = try syntheticData(count: count)
        var rng = TrainingRNG(seed: 41)
        let dir = (0..<16).map { _ in Float(rng.normal()) }
        var rows: [Float] = [], offsets = [0]
        for i in 0..<base.count {
            let l = 1 + Int(rng.next() % 8)
            for t in 0..<l { for k in 0..<16 { rows.append(base.targets[i * 16 + k] + 0.2 * Float(t) * dir[k] + 0.05 * Float(rng.normal())) } }
            offsets.append(offsets.last! + l)
        }
        return try base.withTargetTokens(rows, offsets: offsets)
    }

    static func config() -> TrainingConfig {
        var m = ModelConfig(kind: .tokenDecoder, inputDim: 16, outputDim: 16)
        m.dModel = 32; m.heads = 4; m.ffnDim = 64; m.layers = 1; m.dropout = 0.1; m.maxTargetTokens = 6; m.decoderLayers = 1
        var c = TrainingConfig(model: m)
        c.batchSize = 32; c.epochs = 2; c.seed = 3; c.patience = 0; c.queueSize = 48; c.hardNegatives = 2
        c.optimizer.learningRate = 3e-3; c.optimizer.warmupSteps = 5
        return c
    }

    @Test func resumeEqualsUninterruptedRunAndPredictorMatches() throws {
        let saved = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = saved }
        let data = try Self.data()
        let c = Self.config()
        let dirA = temporaryDirectory("tda"), dirB = temporaryDirectory("tdb")
        defer { try? FileManager.default.removeItem(at: dirA); try? FileManager.default.removeItem(at: dirB) }
        let log = NameLog()
        let a = try Trainer(config: c, data: data, checkpointDirectory: dirA,
                            hooks: TrainingHooks(onMetric: { _, name, value in log.add(name, value) }))
        #expect(a.targetTokenMean?.count == 16)
        let reportA = try a.run()
        let tokenLoss = log.values("train/token_loss")
        #expect(tokenLoss.count == a.step && tokenLoss.allSatisfy { $0 > 0 && $0 < 2 })
        #expect(tokenLoss.suffix(3).reduce(0, +) < tokenLoss.prefix(3).reduce(0, +))   // the token loss falls
        let calls = Counter(), perEpoch = a.stepsPerEpoch
        let b = try Trainer(config: c, data: data, checkpointDirectory: dirB,
                            hooks: TrainingHooks(shouldCancel: { calls.next() > perEpoch }))
        #expect(throws: CancellationError.self) { try b.run() }
        let b2 = try Trainer.resume(from: dirB, data: data)
        #expect(b2.config.model.maxTargetTokens == 6 && b2.config.model.kind == .tokenDecoder)
        #expect(try b2.run() == reportA)
        #expect(Array(UnsafeBufferPointer(start: a.model.params, count: a.model.parameterCount))
                == Array(UnsafeBufferPointer(start: b2.model.params, count: b2.model.parameterCount)))
        // The checkpoint's Predictor reproduces the trainer's (pooled) predictions.
        let p = try Predictor(checkpoint: dirA)
        #expect(try p.predict(tokens: data.tokens, offsets: data.offsets) == a.predictAll())
        let best = try SafeTensors.read(dirA.appendingPathComponent(p.manifest.bestFile))
        #expect(best.tensors["decoder.query_embed"]?.shape == [6, 32])
        #expect(best.tensors["decoder.blocks.0.cross_attn.in_proj_weight"]?.shape == [96, 32])
        #expect(best.tensors["decoder.token_proj.weight"]?.shape == [16, 32])
        // The batch holds the first maxTargetTokens rows of each function, unit length.
        let batch = a.makeBatch([0, 1, 2])
        let to = try #require(batch.targetTokenOffsets)
        for i in 0..<3 { #expect(to[i + 1] - to[i] == min(data.targetTokenOffsets![i + 1] - data.targetTokenOffsets![i], 6)) }
        for r in 0..<to[3] {
            let n = (0..<16).map { batch.targetTokens[r * 16 + $0] * batch.targetTokens[r * 16 + $0] }.reduce(0, +)
            #expect(abs(n - 1) < 1e-4)
        }
    }

    @Test func needsTargetTokensAndValidatesThem() throws {
        let plain = try syntheticData(count: 60)
        #expect(throws: TrainingError.self) { try Trainer(config: Self.config(), data: plain) }
        #expect(throws: TrainingError.self) { try plain.withTargetTokens([Float](repeating: 0, count: 16), offsets: [0, 1]) }
        let offsets = (0...60).map { $0 <= 4 ? $0 : $0 - 1 }   // function 4 without tokens
        #expect(throws: TrainingError.self) { try plain.withTargetTokens([Float](repeating: 0, count: 59 * 16), offsets: offsets) }
        #expect(throws: TrainingError.self) { try plain.withTargetTokens([Float](repeating: .nan, count: 60 * 16), offsets: Array(0...60)) }
    }
}
