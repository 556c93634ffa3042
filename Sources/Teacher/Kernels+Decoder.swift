import Foundation
import Tensor

/// Flat-buffer kernels of the decoder forward: RMSNorm, rotary embeddings (rotate_half pairs),
/// SwiGLU and causal attention of one head.
///
/// ```swift
/// Kernels.rmsNormRow(x, out: h, weight: g, d: 576, eps: 1e-5)
/// ```
extension Kernels {
    /// out[j] = weight[j] · x[j] / sqrt(mean(x²) + eps) over one row of `d` values (`out` may be `x`).
    @inline(__always)
    static func rmsNormRow(_ x: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>,
                           d: Int, eps: Float) {
        var acc = V16(repeating: 0)
        var j = 0
        while j + 16 <= d { let v = load(x + j); acc += v * v; j += 16 }
        var sum = acc.sum()
        while j < d { sum += x[j] * x[j]; j += 1 }
        let inv = 1 / (sum / Float(d) + eps).squareRoot()
        for j in 0..<d { out[j] = x[j] * inv * weight[j] }
    }

    /// cos/sin of every position 0 ..< `positions` and frequency i < headDim/2 (θ_i = base^(-2i/headDim),
    /// angle = position / `positionScale` · θ_i), computed in Double: [positions × headDim/2] each.
    static func ropeTable(positions: Int, headDim: Int, base: Double, positionScale: Double) -> (cos: [Float], sin: [Float]) {
        let half = headDim / 2
        var c = [Float](repeating: 0, count: positions * half), s = c
        for i in 0..<half {
            let theta = 1 / Foundation.pow(base, Double(2 * i) / Double(headDim))
            for p in 0..<positions {
                let a = Double(p) / positionScale * theta
                c[p * half + i] = Float(Foundation.cos(a))
                s[p * half + i] = Float(Foundation.sin(a))
            }
        }
        return (c, s)
    }

    /// Rotates `heads` consecutive heads of one row in place: for each pair (x_i, x_{i+half}),
    /// (x_i·cos − x_{i+half}·sin, x_{i+half}·cos + x_i·sin) — transformers' `rotate_half` layout.
    @inline(__always)
    static func ropeRow(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int,
                        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        let half = headDim / 2
        for h in 0..<heads {
            let a = x + h * headDim, b = a + half
            for i in 0..<half {
                let u = a[i], v = b[i]
                a[i] = u * cos[i] - v * sin[i]
                b[i] = v * cos[i] + u * sin[i]
            }
        }
    }

    /// g[j] = silu(g[j]) · u[j] for one row of n values (silu(x) = x / (1 + e^(−x))).
    @inline(__always)
    static func swigluRow(_ g: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, n: Int) {
        var j = 0
        while j + 16 <= n {
            let x = load(g + j)
            store(x / (1 + exp(-x)) * load(u + j), g + j)
            j += 16
        }
        while j < n { let x = g[j]; g[j] = x / (1 + exp(-x)) * u[j]; j += 1 }
    }
}
