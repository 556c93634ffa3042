import Tensor

extension Ops {
    /// GELU, exact (erf) form as PyTorch's default: 0.5·x·(1 + erf(x/√2)).
    public static func geluForward<T: TrainScalar>(_ out: UnsafeMutablePointer<T>, _ inp: UnsafePointer<T>, count: Int) {
        let invSqrt2 = T(0.70710678118654752440)
        Parallel.ranges(count, minChunk: 1 << 15) { r in
            for i in r {
                let x = inp[i]
                out[i] = T(0.5) * x * (1 + T.errorFunction(x * invSqrt2))
            }
        }
    }

    /// dinp = dout · GELU'(x); `dinp` may alias `dout`.
    public static func geluBackward<T: TrainScalar>(
        dinp: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, inp: UnsafePointer<T>, count: Int
    ) {
        let invSqrt2 = T(0.70710678118654752440)
        let invSqrt2Pi = T(0.39894228040143267794)
        Parallel.ranges(count, minChunk: 1 << 15) { r in
            for i in r {
                let x = inp[i]
                let cdf = T(0.5) * (1 + T.errorFunction(x * invSqrt2))
                let pdf = T.exponential(-T(0.5) * x * x) * invSqrt2Pi
                dinp[i] = dout[i] * (cdf + x * pdf)
            }
        }
    }

    /// GELU for training: `out = GELU(x)` as `geluForward`, and `x` overwritten in place by GELU'(x) =
    /// Φ(x) + x·φ(x) — the factor `geluBackward` would compute from `x`, here from the same erf, so the
    /// backward (`scaleBackward`) is one multiply and never evaluates erf or exp again. Bitwise the same
    /// values as `geluForward` and `geluBackward`.
    ///
    /// ```swift
    /// Ops.geluForwardKeepingDerivative(act, pre, count: n)   // pre now holds GELU'(old pre)
    /// Ops.scaleBackward(dinp: g, dout: g, factor: pre, mask: dropMask, count: n)
    /// ```
    public static func geluForwardKeepingDerivative<T: TrainScalar>(
        _ out: UnsafeMutablePointer<T>, _ inp: UnsafeMutablePointer<T>, count: Int
    ) {
        let invSqrt2 = T(0.70710678118654752440)
        let invSqrt2Pi = T(0.39894228040143267794)
        Parallel.ranges(count, minChunk: 1 << 15) { r in
            for i in r {
                let x = inp[i]
                let erf = T.errorFunction(x * invSqrt2)
                out[i] = T(0.5) * x * (1 + erf)
                let cdf = T(0.5) * (1 + erf)
                let pdf = T.exponential(-T(0.5) * x * x) * invSqrt2Pi
                inp[i] = cdf + x * pdf
            }
        }
    }

    /// dinp = (dout · mask) · factor — the backward of an elementwise op whose derivative `factor` was
    /// kept by its forward (`geluForwardKeepingDerivative`), fused with the dropout mask applied after
    /// it (nil: none). The same products, in the same order, as `dropoutBackward` then `geluBackward`.
    /// `dinp` may alias `dout`.
    public static func scaleBackward<T: TrainScalar>(
        dinp: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, factor: UnsafePointer<T>, mask: UnsafePointer<T>?,
        count: Int
    ) {
        Parallel.ranges(count, minChunk: 1 << 16) { r in
            if let mask {
                for i in r { dinp[i] = dout[i] * mask[i] * factor[i] }
            } else {
                for i in r { dinp[i] = dout[i] * factor[i] }
            }
        }
    }

    /// Inverted dropout: keeps each element with probability 1 − p and scales it by 1/(1 − p).
    /// Writes the per-element scale (0 or 1/(1−p)) to `mask` for the backward pass. `out` may alias `inp`.
    /// Draws one seed from `rng`; each block of 64 Ki elements has its own stream of it, so masks do
    /// not depend on the thread count.
    public static func dropoutForward<T: TrainScalar>(
        _ out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>, _ inp: UnsafePointer<T>,
        count: Int, p: Double, rng: inout TrainingRNG
    ) {
        let keep = T(1 / (1 - p))
        let threshold = UInt64(p * 0x1.0p53)
        let seed = rng.next(), block = 1 << 16
        let blocks = (count + block - 1) / block
        Parallel.ranges(blocks, minChunk: 1) { br in
            for b in br {
                var g = TrainingRNG(seed: seed, stream: UInt64(b))
                for i in (b * block)..<min(count, (b + 1) * block) {
                    let m: T = (g.next() >> 11) < threshold ? 0 : keep
                    mask[i] = m
                    out[i] = inp[i] * m
                }
            }
        }
    }

    /// dinp = dout · mask; `dinp` may alias `dout`.
    public static func dropoutBackward<T: TrainScalar>(
        dinp: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, mask: UnsafePointer<T>, count: Int
    ) {
        Parallel.ranges(count, minChunk: 1 << 16) { r in
            for i in r { dinp[i] = dout[i] * mask[i] }
        }
    }
}
