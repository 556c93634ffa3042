import CBLAS

/// Thin, bounds-checked views over OpenBLAS for row-major Float buffers.
///
/// ```swift
/// // C[m×n] = A[m×k] · B[k×n]
/// BLAS.gemm(a, b, &c, m: 2, n: 3, k: 4)
/// ```
public enum BLAS {
    /// C = alpha · op(A) · op(B) + beta · C, all row-major.
    /// `transA`: A is stored as k×m and used transposed; `transB`: B is stored as n×k.
    @inlinable
    public static func gemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int,
        transA: Bool = false, transB: Bool = false,
        alpha: Float = 1, beta: Float = 0
    ) {
        let lda = transA ? m : k
        let ldb = transB ? k : n
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
    }

    /// Array convenience for `gemm`; sizes are checked.
    public static func gemm(
        _ a: [Float], _ b: [Float], _ c: inout [Float],
        m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
        alpha: Float = 1, beta: Float = 0
    ) {
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "gemm: buffer too small")
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    gemm(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, m: m, n: n, k: k,
                         transA: transA, transB: transB, alpha: alpha, beta: beta)
                }
            }
        }
    }

    /// Double-precision GEMM, row-major (used by probes and finite-difference checks).
    public static func dgemm(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
        m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
        alpha: Double = 1, beta: Double = 0
    ) {
        let lda = transA ? m : k
        let ldb = transB ? k : n
        cblas_dgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
    }

    /// Number of threads OpenBLAS uses.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}
