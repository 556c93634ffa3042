import Foundation
import Testing
import TestSupport
@testable import Training

/// One forward/backward step and two AdamW steps against an independent numpy implementation
/// (gradients by autograd, padded batch with a key padding mask): scripts/reference/training_numpy.py.
@Suite(.ownThreads) struct ReferenceFixtureTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        struct Config: Decodable, Sendable {
            var kind: String, loss: String, symmetric: Bool, input_dim: Int, output_dim: Int, d_model: Int
            var heads: Int, ffn_dim: Int, layers: Int, final_norm: Bool, temperature: Double, mlp_hidden: Int
        }
        struct Optimizer: Decodable, Sendable { var lr: Double, weight_decay: Double, grad_clip: Double }
        var name: String, config: Config, optimizer: Optimizer
        var tokens: [Float], offsets: [Int], targets: [Float], exclude: [UInt8]?
        var params: [String: [Double]], loss: Double, predictions: [Double], grad_norm: Double
        var grads: [String: [Double]], params_after_step1: [String: [Double]], params_after_step2: [String: [Double]]
        var testDescription: String { name }
    }

    static let cases: [Case] = referenceCases("training_reference.json")


    @Test func fixturePresent() { #expect(Self.cases.count == 4) }

    @Test(arguments: cases)
    func matchesNumpyReference(_ c: Case) throws {
        var cfg = ModelConfig(kind: ModelKind(rawValue: c.config.kind)!, inputDim: c.config.input_dim, outputDim: c.config.output_dim)
        cfg.dModel = c.config.d_model; cfg.heads = c.config.heads; cfg.ffnDim = c.config.ffn_dim
        cfg.layers = c.config.layers; cfg.finalNorm = c.config.final_norm; cfg.mlpHidden = c.config.mlp_hidden
        cfg.loss = LossKind(rawValue: c.config.loss)!; cfg.symmetric = c.config.symmetric; cfg.dropout = 0
        cfg.temperatureInit = c.config.temperature
        let model = try StudentModel<Float>(config: cfg, seed: 0)
        try loadReferenceParameters(c.params, into: model)
        let batch = Batch<Float>(tokens: c.tokens, offsets: c.offsets, targets: c.targets, exclude: c.exclude)
        let loss = try model.forward(batch, training: true)
        #expect(abs(Double(loss) - c.loss) <= 1e-4 * abs(c.loss), "loss \(loss) vs \(c.loss)")
        #expect(referenceError(model.outputs, c.predictions) < 1e-4)
        model.backward()
        for e in model.layout.entries {
            let err = referenceError(model.gradient(e.name)!, c.grads[e.name]!)
            #expect(err < 1e-4, "grad \(e.name): \(err)")
        }
        // AdamW from the reference gradients: the key bias of attention has a mathematically zero
        // gradient (softmax ignores a per-row constant), so Float rounding noise there would be
        // amplified by Adam's normalisation; the gradients themselves were checked above.
        for e in model.layout.entries {
            let g = model.gradient(e.name)!, r = c.grads[e.name]!
            for i in 0..<e.count { g[i] = Float(r[i]) }
        }
        var oc = OptimizerConfig()
        oc.weightDecay = c.optimizer.weight_decay
        let norm = Ops.clipGradientNorm(model.grads, count: model.parameterCount, maxNorm: c.optimizer.grad_clip)
        #expect(abs(norm - c.grad_norm) <= 1e-4 * c.grad_norm)
        let adam = AdamW<Float>(layout: model.layout)
        for (step, expected) in [c.params_after_step1, c.params_after_step2].enumerated() {
            adam.step(params: model.params, grads: model.grads, learningRate: c.optimizer.lr, config: oc)
            for e in model.layout.entries {
                let err = referenceError(model.parameter(e.name)!, expected[e.name]!)
                #expect(err < 1e-4, "step \(step + 1) \(e.name): \(err)")
            }
        }
    }
}
