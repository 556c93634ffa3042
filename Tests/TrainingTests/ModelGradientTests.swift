import Testing
import TestSupport
@testable import Training

/// The whole model's gradient (every parameter, the temperature included) against Float64 central
/// differences of the same forward instantiated at Double.
@Suite(.ownThreads) struct ModelGradientTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var kind: ModelKind, loss: LossKind, symmetric = false, dropout = 0.0, finalNorm = true, extra = 0
        var testDescription: String { "\(kind.rawValue)+\(loss.rawValue) sym=\(symmetric) p=\(dropout) fn=\(finalNorm) extra=\(extra)" }
    }

    static let cases: [Case] = [
        Case(kind: .sigPredictor, loss: .infoNCE, symmetric: false, dropout: 0.2, finalNorm: true, extra: 2),
        Case(kind: .sigPredictor, loss: .infoNCE, symmetric: true, dropout: 0, finalNorm: true, extra: 0),
        Case(kind: .sigPredictor, loss: .smoothL1, dropout: 0.1, finalNorm: false),
        Case(kind: .mlp, loss: .infoNCE, symmetric: true, dropout: 0.25, extra: 1),
        Case(kind: .mlp, loss: .smoothL1),
    ]

    @Test(arguments: cases)
    func wholeModelGradient(_ c: Case) throws {
        var cfg = ModelConfig(kind: c.kind, inputDim: 5, outputDim: 4)
        cfg.dModel = 8; cfg.heads = 2; cfg.ffnDim = 12; cfg.layers = 2; cfg.mlpHidden = 7
        cfg.loss = c.loss; cfg.symmetric = c.symmetric; cfg.dropout = c.dropout; cfg.finalNorm = c.finalNorm
        cfg.temperatureInit = 0.5
        let model = try StudentModel<Double>(config: cfg, seed: 11)
        var rng = TrainingRNG(seed: 12)
        // Perturb LayerNorm weights/biases and zero-initialised biases so every path is exercised.
        for i in 0..<model.parameterCount { model.params[i] += rng.normal() * 0.1 }
        let offsets = [0, 2, 3, 6]
        let bsz = offsets.count - 1, cols = bsz + c.extra
        var targets = randomValues(cols * 4, &rng)
        if c.loss == .infoNCE {
            for r in 0..<cols {
                let s = (0..<4).map { targets[r * 4 + $0] * targets[r * 4 + $0] }.reduce(0, +).squareRoot()
                for j in 0..<4 { targets[r * 4 + j] /= s }
            }
        }
        var exclude: [UInt8]? = nil
        if c.extra > 0 { var m = [UInt8](repeating: 0, count: bsz * cols); m[1 * cols + 0] = 1; m[2 * cols + bsz] = 1; exclude = m }
        let batch = Batch<Double>(tokens: randomValues(6 * 5, &rng), offsets: offsets, targets: targets, exclude: exclude)
        _ = try model.forward(batch, training: true, dropoutSeed: 99)
        model.backward()
        let analytic = Array(UnsafeBufferPointer(start: model.grads, count: model.parameterCount))
        if c.loss == .infoNCE { #expect(analytic[model.logTemperatureOffset] != 0) }
        let err = finiteDifferenceError(model.params, count: model.parameterCount, analytic: analytic) {
            (try? model.forward(batch, training: true, dropoutSeed: 99)) ?? .nan
        }
        #expect(err < 1e-4, "max relative error \(err)")
    }

    @Test func badBatchesThrow() throws {
        let model = try StudentModel<Float>(config: ModelConfig(kind: .mlp, inputDim: 3, outputDim: 2), seed: 0)
        #expect(throws: (any Error).self) { try model.predict(tokens: [1, 2, 3], offsets: [0, 0, 1]) }  // empty sequence
        #expect(throws: (any Error).self) { try model.predict(tokens: [1, 2], offsets: [0, 1]) }        // wrong width
        #expect(throws: (any Error).self) {
            try model.forward(Batch(tokens: [1, 2, 3], offsets: [0, 1], targets: [1]), training: true)
        }
        var bad = ModelConfig(kind: .sigPredictor, inputDim: 3, outputDim: 2)
        bad.dModel = 10; bad.heads = 3
        #expect(throws: (any Error).self) { try StudentModel<Float>(config: bad, seed: 0) }
    }
}
