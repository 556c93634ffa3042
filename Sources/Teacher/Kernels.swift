import Foundation
import Tensor

/// Flat-buffer kernels of the BERT forward (llm.c style: raw pointers, no bounds checks in hot loops).
enum Kernels {
    /// Runs `body` over `0..<n` split into contiguous chunks, up to four per core (serially when small).
    static func parallelRows(_ n: Int, minRowsPerChunk: Int = 16, _ body: (Range<Int>) -> Void) {
        Parallel.ranges(n, minChunk: minRowsPerChunk, maxParts: Parallel.cores * 4, body)
    }

    /// y = LayerNorm(x) · g + b over one row of `d` values, in place.
    @inline(__always)
    static func layerNormRow(_ x: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                             d: Int, eps: Float) {
        var sum: Float = 0
        for j in 0..<d { sum += x[j] }
        let mean = sum / Float(d)
        var sq: Float = 0
        for j in 0..<d { let t = x[j] - mean; sq += t * t }
        let inv = 1 / (sq / Float(d) + eps).squareRoot()
        for j in 0..<d { x[j] = (x[j] - mean) * inv * g[j] + b[j] }
    }

    /// x[r] = LayerNorm(y[r] + bias + x[r]) for `rows` rows (residual add, then norm), in place in x.
    static func addBiasResidualLayerNorm(x: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                         g: UnsafePointer<Float>, b: UnsafePointer<Float>, rows: Int, d: Int, eps: Float) {
        parallelRows(rows) { range in
            for r in range {
                let xr = x + r * d, yr = y + r * d
                for j in 0..<d { xr[j] += yr[j] + bias[j] }
                layerNormRow(xr, g, b, d: d, eps: eps)
            }
        }
    }

    /// h = act(h + bias) over rows × n.
    static func addBiasActivation(_ h: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, n: Int,
                                  activation: BertConfig.Activation) {
        parallelRows(rows, minRowsPerChunk: 4) { range in
            for r in range {
                let hr = h + r * n
                switch activation {
                case .gelu:
                    geluRow(hr, bias, n: n)
                case .geluTanh:
                    for j in 0..<n {
                        let v = hr[j] + bias[j]
                        hr[j] = 0.5 * v * (1 + tanhf(0.7978845608028654 * (v + 0.044715 * v * v * v)))
                    }
                case .relu:
                    for j in 0..<n { hr[j] = max(0, hr[j] + bias[j]) }
                }
            }
        }
    }

    /// Rows per attention chunk so that both GEMMs stay under OpenBLAS's single-thread threshold
    /// (m·n·k ≤ 65536·4): the calls then run on the calling thread, and Dispatch spreads heads over cores.
    static func attentionChunk(t: Int, dh: Int) -> Int { max(1, min(t, 262_144 / max(1, t * dh))) }

    /// Attention of one head over one sequence of t tokens:
    /// out[i] = Σ_j softmax_j(scale · q_i·k_j) v_j, over every j, or with `causal` over j ≤ i (a chunk's
    /// GEMMs then stop at its last row's keys, so the masked upper triangle costs at most one chunk's
    /// width). q, k, v rows have stride `ld`, out rows `ldo`. Query rows go in chunks
    /// (`attentionChunk`); `scores` holds chunk × t floats.
    static func attentionHead(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
                              out: UnsafeMutablePointer<Float>, ldo: Int, t: Int, dh: Int, scale: Float,
                              scores: UnsafeMutablePointer<Float>, causal: Bool = false) {
        let chunk = attentionChunk(t: t, dh: dh)
        var i = 0
        while i < t {
            let m = min(chunk, t - i), keys = causal ? i + m : t
            Float.gemm(transA: false, transB: true, m: m, n: keys, k: dh, alpha: scale, a: q + i * ld, lda: ld, b: k, ldb: ld,
                       beta: 0, c: scores, ldc: keys)
            for r in 0..<m {
                let row = scores + r * keys, visible = causal ? i + r + 1 : keys
                softmaxRow(row, n: visible)
                (row + visible).update(repeating: 0, count: keys - visible)
            }
            Float.gemm(transA: false, transB: false, m: m, n: dh, k: keys, alpha: 1, a: scores, lda: keys, b: v, ldb: ld,
                       beta: 0, c: out + i * ldo, ldc: ldo)
            i += m
        }
    }
}
