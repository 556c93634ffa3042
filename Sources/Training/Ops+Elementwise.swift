extension Ops {
    /// GELU, exact (erf) form as PyTorch's default: 0.5·x·(1 + erf(x/√2)).
    public static func geluForward<T: TrainScalar>(_ out: UnsafeMutablePointer<T>, _ inp: UnsafePointer<T>, count: Int) {
        let invSqrt2 = T(0.70710678118654752440)
        for i in 0..<count {
            let x = inp[i]
            out[i] = T(0.5) * x * (1 + T.errorFunction(x * invSqrt2))
        }
    }

    /// dinp = dout · GELU'(x); `dinp` may alias `dout`.
    public static func geluBackward<T: TrainScalar>(
        dinp: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, inp: UnsafePointer<T>, count: Int
    ) {
        let invSqrt2 = T(0.70710678118654752440)
        let invSqrt2Pi = T(0.39894228040143267794)
        for i in 0..<count {
            let x = inp[i]
            let cdf = T(0.5) * (1 + T.errorFunction(x * invSqrt2))
            let pdf = T.exponential(-T(0.5) * x * x) * invSqrt2Pi
            dinp[i] = dout[i] * (cdf + x * pdf)
        }
    }

    /// Inverted dropout: keeps each element with probability 1 − p and scales it by 1/(1 − p).
    /// Writes the per-element scale (0 or 1/(1−p)) to `mask` for the backward pass. `out` may alias `inp`.
    public static func dropoutForward<T: TrainScalar>(
        _ out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>, _ inp: UnsafePointer<T>,
        count: Int, p: Double, rng: inout TrainingRNG
    ) {
        let keep = T(1 / (1 - p))
        let threshold = UInt64(p * 0x1.0p53)
        for i in 0..<count {
            let m: T = (rng.next() >> 11) < threshold ? 0 : keep
            mask[i] = m
            out[i] = inp[i] * m
        }
    }

    /// dinp = dout · mask; `dinp` may alias `dout`.
    public static func dropoutBackward<T: TrainScalar>(
        dinp: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, mask: UnsafePointer<T>, count: Int
    ) {
        for i in 0..<count { dinp[i] = dout[i] * mask[i] }
    }
}
