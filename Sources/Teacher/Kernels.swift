import CBLAS
import Dispatch
import Foundation

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Flat-buffer kernels of the BERT forward (llm.c style: raw pointers, no bounds checks in hot loops).
enum Kernels {
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` over `0..<n` split into contiguous chunks on all cores (serially when small).
    static func parallelRows(_ n: Int, minRowsPerChunk: Int = 16, _ body: (Range<Int>) -> Void) {
        let chunks = min(cores * 4, max(1, n / minRowsPerChunk))
        if chunks <= 1 { body(0..<n); return }
        concurrentPerform(chunks) { c in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// `DispatchQueue.concurrentPerform` for a non-Sendable body over raw buffers: callers guarantee
    /// iterations touch disjoint memory.
    static func concurrentPerform(_ iterations: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedSendable(escapable)
            DispatchQueue.concurrentPerform(iterations: iterations) { box.value($0) }
        }
    }

    /// Row-major C[m×n] = alpha·op(A)·op(B) + beta·C with explicit leading dimensions.
    @inline(__always)
    static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
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
    /// out[i] = Σ_j softmax_j(scale · q_i·k_j) v_j. q, k, v rows have stride `ld`, out rows `ldo`.
    /// Query rows go in chunks (`attentionChunk`); `scores` holds chunk × t floats.
    static func attentionHead(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
                              out: UnsafeMutablePointer<Float>, ldo: Int, t: Int, dh: Int, scale: Float,
                              scores: UnsafeMutablePointer<Float>) {
        let chunk = attentionChunk(t: t, dh: dh)
        var i = 0
        while i < t {
            let m = min(chunk, t - i)
            sgemm(transB: true, m: m, n: t, k: dh, alpha: scale, a: q + i * ld, lda: ld, b: k, ldb: ld, c: scores, ldc: t)
            for r in 0..<m { softmaxRow(scores + r * t, n: t) }
            sgemm(m: m, n: dh, k: t, a: scores, lda: t, b: v, ldb: ld, c: out + i * ldo, ldc: ldo)
            i += m
        }
    }
}
