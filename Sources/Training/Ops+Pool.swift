extension Ops {
    /// Masked mean-pool: out[b] = mean of rows offsets[b]..<offsets[b+1] of `inp` (padding never counts).
    public static func meanPoolForward<T: TrainScalar>(
        _ out: UnsafeMutablePointer<T>, _ inp: UnsafePointer<T>, offsets: UnsafePointer<Int>, count: Int, columns c: Int
    ) {
        for b in 0..<count {
            let start = offsets[b], end = offsets[b + 1]
            let o = out + b * c
            o.update(repeating: 0, count: c)
            for t in start..<end {
                let x = inp + t * c
                for i in 0..<c { o[i] += x[i] }
            }
            let inv = 1 / T(end - start)
            for i in 0..<c { o[i] *= inv }
        }
    }

    /// dinp[t] = dout[b] / L_b for every token t of sequence b (overwritten).
    public static func meanPoolBackward<T: TrainScalar>(
        dinp: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, offsets: UnsafePointer<Int>, count: Int, columns c: Int
    ) {
        for b in 0..<count {
            let start = offsets[b], end = offsets[b + 1]
            let inv = 1 / T(end - start)
            let g = dout + b * c
            for t in start..<end {
                let dx = dinp + t * c
                for i in 0..<c { dx[i] = g[i] * inv }
            }
        }
    }

    /// Row-wise L2 normalisation: out = x / max(‖x‖, eps); saves the norms.
    public static func l2NormalizeForward<T: TrainScalar>(
        _ out: UnsafeMutablePointer<T>, norms: UnsafeMutablePointer<T>, _ inp: UnsafePointer<T>,
        rows: Int, columns c: Int, eps: T = T(1e-12)
    ) {
        for r in 0..<rows {
            let x = inp + r * c, y = out + r * c
            var s: T = 0
            for i in 0..<c { s += x[i] * x[i] }
            let n = max(s.squareRoot(), eps)
            norms[r] = n
            let inv = 1 / n
            for i in 0..<c { y[i] = x[i] * inv }
        }
    }

    /// dinp = (dout − y·(y·dout)) / ‖x‖ (overwritten; a clamped norm passes dout/eps).
    public static func l2NormalizeBackward<T: TrainScalar>(
        dinp: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, out: UnsafePointer<T>, norms: UnsafePointer<T>,
        rows: Int, columns c: Int, eps: T = T(1e-12)
    ) {
        for r in 0..<rows {
            let y = out + r * c, dy = dout + r * c, dx = dinp + r * c
            let inv = 1 / norms[r]
            if norms[r] <= eps {
                for i in 0..<c { dx[i] = dy[i] * inv }
                continue
            }
            var dot: T = 0
            for i in 0..<c { dot += y[i] * dy[i] }
            for i in 0..<c { dx[i] = (dy[i] - y[i] * dot) * inv }
        }
    }
}
