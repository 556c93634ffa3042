import Foundation
import Testing
import TestSupport
@testable import Training

/// The token decoder's ops and the whole `token_decoder` model against Float64 central differences.
@Suite(.ownThreads) struct TokenDecoderGradientTests {
    let tolerance = 1e-4

    @Test func crossAttentionWithKeyMask() {
        var rng = TrainingRNG(seed: 21)
        let d = 8, heads = 2
        let qo = [0, 3, 4, 9], ko = [0, 2, 7, 8]   // queries 3, 1, 5 over keys 2, 5, 1
        let nq = qo.last!, nk = ko.last!
        let q = DBuf(randomValues(nq * d, &rng)), kv = DBuf(randomValues(nk * 2 * d, &rng))
        let g = DBuf(randomValues(nq * d, &rng)), y = DBuf(zeros: nq * d)
        let probs = DBuf(zeros: Ops.crossAttentionProbsCount(queryOffsets: qo, keyOffsets: ko, count: 3, heads: heads))
        let loss = {
            Ops.crossAttentionForward(y.p, probs: probs.p, q: q.p, kv: kv.p, queryOffsets: qo, keyOffsets: ko,
                                      count: 3, heads: heads, dim: d)
            return dot(g.p, y.p, nq * d)
        }
        _ = loss()
        let dq = DBuf(zeros: nq * d), dkv = DBuf(zeros: nk * 2 * d)
        Ops.crossAttentionBackward(dq: dq.p, dkv: dkv.p, dout: g.p, q: q.p, kv: kv.p, probs: probs.p,
                                   queryOffsets: qo, keyOffsets: ko, count: 3, heads: heads, dim: d)
        #expect(finiteDifferenceError(q.p, count: nq * d, analytic: dq.array, loss: loss) < tolerance)
        #expect(finiteDifferenceError(kv.p, count: nk * 2 * d, analytic: dkv.array, loss: loss) < tolerance)
        // A single key: every query returns its value row.
        #expect(abs(y.p[8 * d] - kv.p[7 * 2 * d + d]) < 1e-12)
    }

    @Test func positionGatherAndTokenCosine() {
        var rng = TrainingRNG(seed: 22)
        let c = 6, cap = 5, offs = [0, 1, 6, 9]
        let n = offs.last!
        let table = DBuf(randomValues(cap * c, &rng)), g = DBuf(randomValues(n * c, &rng)), y = DBuf(zeros: n * c)
        let dtable = DBuf(zeros: cap * c)
        Ops.positionGatherBackward(dtable: dtable.p, dout: g.p, offsets: offs, count: 3, columns: c)
        #expect(finiteDifferenceError(table.p, count: cap * c, analytic: dtable.array) {
            Ops.positionGatherForward(y.p, table: table.p, offsets: offs, count: 3, columns: c); return dot(g.p, y.p, n * c)
        } < tolerance)
        // Cosine loss against unit targets.
        let x = DBuf(randomValues(n * c, &rng)), t = DBuf(randomValues(n * c, &rng)), norms = DBuf(zeros: n)
        for r in 0..<n {
            let s = (0..<c).map { t.p[r * c + $0] * t.p[r * c + $0] }.reduce(0, +).squareRoot()
            for j in 0..<c { t.p[r * c + j] /= s }
        }
        let lossFn = { Ops.tokenCosineForward(pred: x.p, target: t.p, norms: norms.p, rows: n, columns: c) }
        let l = lossFn()
        #expect(l > 0 && l < 2)
        let dx = DBuf(zeros: n * c)
        Ops.tokenCosineBackward(dpred: dx.p, pred: x.p, target: t.p, norms: norms.p, rows: n, columns: c, scale: 1.5)
        #expect(finiteDifferenceError(x.p, count: n * c, analytic: dx.array) { 1.5 * lossFn() } < tolerance)
        // A prediction equal to its target costs nothing.
        let same = Ops.tokenCosineForward(pred: t.p, target: t.p, norms: norms.p, rows: n, columns: c)
        #expect(abs(same) < 1e-12)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var dropout = 0.0, finalNorm = true, decoderLayers = 1, extra = 0, queue = false, weight = 1.0
        var testDescription: String { "p=\(dropout) fn=\(finalNorm) dec=\(decoderLayers) extra=\(extra) queue=\(queue) w=\(weight)" }
    }

    static let cases: [Case] = [
        Case(),
        Case(dropout: 0.2, decoderLayers: 2, extra: 2),
        Case(finalNorm: false, decoderLayers: 0, weight: 0.5),
        Case(decoderLayers: 1, queue: true, weight: 2),
    ]

    /// D = 6, d_model = 8, 2 heads, cap 5, batch 3, target token counts 1, 5, 3.
    static func tinyModel(_ c: Case) throws -> (StudentModel<Double>, Batch<Double>) {
        var cfg = ModelConfig(kind: .tokenDecoder, inputDim: 6, outputDim: 6)
        cfg.dModel = 8; cfg.heads = 2; cfg.ffnDim = 12; cfg.layers = 1; cfg.maxTargetTokens = 5
        cfg.decoderLayers = c.decoderLayers; cfg.dropout = c.dropout; cfg.finalNorm = c.finalNorm
        cfg.tokenLossWeight = c.weight; cfg.temperatureInit = 0.5
        let model = try StudentModel<Double>(config: cfg, seed: 31)
        var rng = TrainingRNG(seed: 32)
        for i in 0..<model.parameterCount { model.params[i] += rng.normal() * 0.1 }
        func unit(_ rows: Int) -> [Double] {
            var v = randomValues(rows * 6, &rng)
            for r in 0..<rows {
                let s = (0..<6).map { v[r * 6 + $0] * v[r * 6 + $0] }.reduce(0, +).squareRoot()
                for j in 0..<6 { v[r * 6 + j] /= s }
            }
            return v
        }
        let offsets = [0, 2, 3, 7], toff = [0, 1, 6, 9]
        let cols = 3 + c.extra
        var exclude: [UInt8]? = nil
        if c.extra > 0 { var m = [UInt8](repeating: 0, count: 3 * cols); m[1 * cols + 0] = 1; m[2 * cols + 3] = 1; exclude = m }
        let batch = Batch<Double>(tokens: randomValues(7 * 6, &rng), offsets: offsets, targets: unit(cols), exclude: exclude,
                                  groups: c.queue ? [0, 1, 2] : nil, targetTokens: unit(9), targetTokenOffsets: toff)
        return (model, batch)
    }

    @Test(arguments: cases)
    func wholeModelGradient(_ c: Case) throws {
        let (model, batch) = try Self.tinyModel(c)
        var queue: NegativeQueue<Double>? = nil
        if c.queue {
            let q = NegativeQueue<Double>(capacity: 4, dim: 6)
            var rng = TrainingRNG(seed: 33)
            for f in 0..<3 {
                var row = randomValues(6, &rng)
                let s = row.map { $0 * $0 }.reduce(0, +).squareRoot()
                row = row.map { $0 / s }
                q.enqueue(row: row, function: 10 + f, group: f == 0 ? 1 : 10 + f)   // the first one is row 1's duplicate
            }
            queue = q
        }
        let loss = try model.forward(batch, training: true, dropoutSeed: 5, negatives: queue)
        #expect(loss.isFinite && model.lastTokenLoss > 0)
        model.backward()
        let analytic = Array(UnsafeBufferPointer(start: model.grads, count: model.parameterCount))
        #expect(analytic[model.layout["decoder.query_embed"]!.offset + 4 * 8] != 0)   // position 4 (row 1 has 5 tokens)
        let err = finiteDifferenceError(model.params, count: model.parameterCount, analytic: analytic) {
            (try? model.forward(batch, training: true, dropoutSeed: 5, negatives: queue)) ?? .nan
        }
        #expect(err < tolerance, "max relative error \(err)")
    }

    @Test func predictPoolsTheTrainingPositionsAndBadBatchesThrow() throws {
        let (model, batch) = try Self.tinyModel(Case())
        let p = try model.predict(tokens: batch.tokens, offsets: batch.offsets)
        #expect(p.count == 3 * 6 && p.allSatisfy(\.isFinite))
        #expect(model.tokenPredictions.isEmpty)   // no body: no token head
        // Training pools the same cap positions as prediction: with targets of 1, 5 and 3 tokens the
        // pooled prediction of an eval-mode forward is exactly the prediction.
        _ = try model.forward(batch, training: false)
        #expect(model.outputs == p)
        #expect(model.tokenPredictions.count == (1 + 5 + 3) * 6)
        var bad = batch
        bad.targetTokenOffsets = [0, 1, 7, 10]  // 6 > cap 5
        bad.targetTokens += [Double](repeating: 0.1, count: 6)
        #expect(throws: TrainingError.self) { try model.forward(bad, training: false) }
        bad.targetTokenOffsets = nil
        #expect(throws: TrainingError.self) { try model.forward(bad, training: false) }
        var cfg = model.config
        cfg.loss = .smoothL1
        #expect(throws: TrainingError.self) { try StudentModel<Double>(config: cfg, seed: 0) }
    }
}

/// The `token_decoder`'s forward loss, pooled and token predictions and every gradient against the
/// independent numpy implementation (autograd, padded batches with key and target masks):
/// Fixtures/token_decoder_reference.json from scripts/reference/training_numpy.py.
@Suite(.ownThreads) struct TokenDecoderReferenceTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        struct Config: Decodable, Sendable {
            var input_dim: Int, output_dim: Int, d_model: Int, heads: Int, ffn_dim: Int, layers: Int, final_norm: Bool
            var temperature: Double, max_target_tokens: Int, decoder_layers: Int, token_loss_weight: Double
        }
        var name: String, config: Config
        var tokens: [Float], offsets: [Int], targets: [Float], exclude: [UInt8]?
        var target_tokens: [Float], target_token_offsets: [Int]
        var params: [String: [Double]], loss: Double, token_loss: Double, predictions: [Double], token_predictions: [Double]
        var grads: [String: [Double]]
        var testDescription: String { name }
    }

    static let cases: [Case] = referenceCases("token_decoder_reference.json")


    @Test func fixturePresent() { #expect(Self.cases.count == 2) }

    @Test(arguments: cases)
    func matchesNumpyReference(_ c: Case) throws {
        let k = c.config
        var cfg = ModelConfig(kind: .tokenDecoder, inputDim: k.input_dim, outputDim: k.output_dim)
        cfg.dModel = k.d_model; cfg.heads = k.heads; cfg.ffnDim = k.ffn_dim; cfg.layers = k.layers; cfg.finalNorm = k.final_norm
        cfg.maxTargetTokens = k.max_target_tokens; cfg.decoderLayers = k.decoder_layers; cfg.tokenLossWeight = k.token_loss_weight
        cfg.dropout = 0; cfg.temperatureInit = k.temperature
        let model = try StudentModel<Float>(config: cfg, seed: 0)
        try loadReferenceParameters(c.params, into: model)
        let batch = Batch<Float>(tokens: c.tokens, offsets: c.offsets, targets: c.targets, exclude: c.exclude,
                                 targetTokens: c.target_tokens, targetTokenOffsets: c.target_token_offsets)
        let loss = try model.forward(batch, training: true)
        #expect(abs(Double(loss) - c.loss) <= 1e-4 * abs(c.loss), "loss \(loss) vs \(c.loss)")
        #expect(abs(Double(model.lastTokenLoss) - c.token_loss) <= 1e-4 * abs(c.token_loss))
        #expect(referenceError(model.outputs, c.predictions) < 1e-4)
        #expect(referenceError(model.tokenPredictions, c.token_predictions) < 1e-4)
        model.backward()
        for e in model.layout.entries {
            let err = referenceError(model.gradient(e.name)!, c.grads[e.name]!)
            #expect(err < 1e-4, "grad \(e.name): \(err)")
        }
    }
}
