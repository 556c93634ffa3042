import Tensor

extension Ops {
    /// LayerNorm over the last dimension: out = (x − μ)/√(σ² + eps) · weight + bias.
    /// Saves the per-row mean and reciprocal std for the backward pass.
    public static func layerNormForward<T: TrainScalar>(
        _ out: UnsafeMutablePointer<T>, mean: UnsafeMutablePointer<T>, rstd: UnsafeMutablePointer<T>,
        _ inp: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>,
        rows: Int, columns c: Int, eps: T
    ) {
        let invC = 1 / T(c)
        Parallel.ranges(rows, minChunk: max(1, (1 << 15) / c)) { rr in
          for r in rr {
            let x = inp + r * c, y = out + r * c
            var m: T = 0
            for i in 0..<c { m += x[i] }
            m *= invC
            var v: T = 0
            for i in 0..<c { let d = x[i] - m; v += d * d }
            v *= invC
            let s = 1 / (v + eps).squareRoot()
            for i in 0..<c { y[i] = (x[i] - m) * s * weight[i] + bias[i] }
            mean[r] = m
            rstd[r] = s
          }
        }
    }

    /// dinp += ∂L/∂x (accumulates), dweight += Σ dout·x̂, dbias += Σ dout.
    public static func layerNormBackward<T: TrainScalar>(
        dinp: UnsafeMutablePointer<T>, dweight: UnsafeMutablePointer<T>, dbias: UnsafeMutablePointer<T>,
        dout: UnsafePointer<T>, inp: UnsafePointer<T>, weight: UnsafePointer<T>,
        mean: UnsafePointer<T>, rstd: UnsafePointer<T>, rows: Int, columns c: Int
    ) {
        let invC = 1 / T(c)
        let parts = Parallel.parts(rows, minChunk: max(1, (1 << 15) / c))
        // Part 0 accumulates straight into dweight/dbias; the others into scratch, added in order.
        let scratch = UnsafeMutablePointer<T>.allocate(capacity: max(1, 2 * c * (parts - 1)))
        scratch.initialize(repeating: 0, count: max(1, 2 * c * (parts - 1)))
        defer { scratch.deallocate() }
        Parallel.each(parts, rows) { part, rr in
          let dweight = part == 0 ? dweight : scratch + 2 * c * (part - 1)
          let dbias = part == 0 ? dbias : scratch + 2 * c * (part - 1) + c
          for r in rr {
            let x = inp + r * c, dy = dout + r * c, dx = dinp + r * c
            let m = mean[r], s = rstd[r]
            var dnormMean: T = 0, dnormNormMean: T = 0
            for i in 0..<c {
                let norm = (x[i] - m) * s
                let dnorm = weight[i] * dy[i]
                dnormMean += dnorm
                dnormNormMean += dnorm * norm
            }
            dnormMean *= invC
            dnormNormMean *= invC
            for i in 0..<c {
                let norm = (x[i] - m) * s
                let dnorm = weight[i] * dy[i]
                dbias[i] += dy[i]
                dweight[i] += norm * dy[i]
                dx[i] += (dnorm - dnormMean - norm * dnormNormMean) * s
            }
          }
        }
        for part in 1..<max(parts, 1) {
            let sw = scratch + 2 * c * (part - 1), sb = sw + c
            for i in 0..<c { dweight[i] += sw[i]; dbias[i] += sb[i] }
        }
    }
}
