import Foundation
import Tensor

/// Optimiser and schedule settings.
public struct OptimizerConfig: Codable, Sendable, Equatable {
    public var learningRate: Double = 3e-4
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var eps: Double = 1e-8
    public var weightDecay: Double = 0.01
    /// Clip gradients to this global L2 norm (0 = off).
    public var gradClip: Double = 1.0
    /// Linear warmup steps; nil = 5 % of all steps.
    public var warmupSteps: Int? = nil
    /// The cosine schedule decays to learningRate · minLearningRateRatio.
    public var minLearningRateRatio: Double = 0.0
    public init() {}
}

/// AdamW (decoupled weight decay, PyTorch's formula) over one flat parameter buffer, with its
/// first and second moments in two flat buffers of the same layout. Weight decay applies only to
/// entries whose `ParameterEntry.decay` is true (matrices, never biases, norms, or the temperature).
///
/// ```swift
/// let opt = AdamW<Float>(layout: model.layout)
/// let norm = Ops.clipGradientNorm(model.grads, count: model.parameterCount, maxNorm: 1)
/// opt.step(params: model.params, grads: model.grads, learningRate: 3e-4, config: OptimizerConfig())
/// ```
public final class AdamW<T: TrainScalar> {
    public let layout: ParameterLayout
    public let m: UnsafeMutablePointer<T>
    public let v: UnsafeMutablePointer<T>
    /// Number of updates taken so far (bias correction uses step + 1 for the next one).
    public var step = 0

    public init(layout: ParameterLayout) {
        self.layout = layout
        m = .allocate(capacity: max(layout.count, 1)); m.initialize(repeating: 0, count: max(layout.count, 1))
        v = .allocate(capacity: max(layout.count, 1)); v.initialize(repeating: 0, count: max(layout.count, 1))
    }
    deinit { m.deallocate(); v.deallocate() }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func step(params: UnsafeMutablePointer<T>, grads: UnsafePointer<T>, learningRate: Double, config: OptimizerConfig) {
        step += 1
        let b1 = T(config.beta1), b2 = T(config.beta2), eps = T(config.eps), lr = T(learningRate)
        let c1 = T(1 - pow(config.beta1, Double(step))), c2 = T(1 - pow(config.beta2, Double(step)))
        let decayFactor = 1 - lr * T(config.weightDecay)
        for e in layout.entries {
            let p = params + e.offset, g = grads + e.offset, m = self.m + e.offset, v = self.v + e.offset
            let decay = e.decay && config.weightDecay != 0
            Parallel.ranges(e.count, minChunk: 1 << 16) { r in
                for i in r {
                    if decay { p[i] *= decayFactor }
                    let gi = g[i]
                    m[i] = b1 * m[i] + (1 - b1) * gi
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi
                    let mhat = m[i] / c1, vhat = v[i] / c2
                    p[i] -= lr * mhat / (vhat.squareRoot() + eps)
                }
            }
        }
    }
}

extension Ops {
    /// Scales the gradients so their global L2 norm is at most `maxNorm` (PyTorch's
    /// `clip_grad_norm_`: coefficient maxNorm / (norm + 1e-6), applied when below 1). Returns the
    /// norm before clipping.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @discardableResult
    public static func clipGradientNorm<T: TrainScalar>(_ grads: UnsafeMutablePointer<T>, count: Int, maxNorm: Double) -> Double {
        // Partial sums over fixed blocks, added in block order: the same for any thread count.
        let block = 1 << 16, blocks = (count + block - 1) / block
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: max(blocks, 1))
        defer { partial.deallocate() }
        Parallel.ranges(blocks, minChunk: 4) { br in
            for b in br {
                var s = 0.0
                for i in (b * block)..<min(count, (b + 1) * block) { let g = Double(grads[i]); s += g * g }
                partial[b] = s
            }
        }
        var s = 0.0
        for b in 0..<blocks { s += partial[b] }
        let norm = s.squareRoot()
        if maxNorm > 0 {
            let coef = maxNorm / (norm + 1e-6)
            if coef < 1 {
                let c = T(coef)
                Parallel.ranges(count, minChunk: 1 << 16) { r in for i in r { grads[i] *= c } }
            }
        }
        return norm
    }

    /// Linear warmup to `base` over `warmup` steps, then cosine decay to base · minRatio at `total`.
    /// `step` counts from 0.
    public static func learningRate(step: Int, total: Int, warmup: Int, base: Double, minRatio: Double) -> Double {
        if step < warmup { return base * Double(step + 1) / Double(warmup) }
        let progress = min(1, Double(step - warmup) / Double(max(1, total - warmup)))
        return base * (minRatio + (1 - minRatio) * 0.5 * (1 + cos(Double.pi * progress)))
    }
}
