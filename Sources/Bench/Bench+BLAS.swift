import Foundation
import Tensor

/// Wall-clock seconds of `body`, best of `repeats`.
func bestTime(repeats: Int = 3, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    return best
}

/// Measured `cblas_sgemm` GFLOP/s for C[m×n] = A[m×k]·B[k×n] (best of a few runs).
func measureSgemmGFLOPS(m: Int, n: Int, k: Int, transB: Bool = false) -> Double {
    let a = [Float](repeating: 0.5, count: m * k)
    let b = [Float](repeating: 0.25, count: k * n)
    var c = [Float](repeating: 0, count: m * n)
    BLAS.gemm(a, b, &c, m: m, n: n, k: k, transB: transB) // warm-up
    let reps = max(1, Int(2e9 / Double(2 * m * n * k)))
    let t = bestTime {
        for _ in 0..<reps { BLAS.gemm(a, b, &c, m: m, n: n, k: k, transB: transB) }
    }
    return Double(2 * m * n * k * reps) / t / 1e9
}

/// `Bench sgemm`: the machine's sgemm peak on model-sized shapes.
func benchSgemm(_ args: [String]) {
    let env = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { "OPENBLAS_CORETYPE=\($0) in the environment" }
        ?? "OPENBLAS_CORETYPE unset: OpenBLAS's own choice"
    print("OpenBLAS kernel: \(BLAS.coreName) (\(env)).")
    print()
    print("| shape (m×n×k) | GFLOP/s |")
    print("|---|---|")
    for (m, n, k) in [(4096, 384, 384), (4096, 1536, 384), (4096, 384, 1536), (2048, 512, 512), (2048, 2048, 512)] {
        print("| \(m)×\(n)×\(k) | \(String(format: "%.1f", measureSgemmGFLOPS(m: m, n: n, k: k))) |")
    }
}
