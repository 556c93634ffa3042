import CBLAS

/// The element types BLAS runs on: `Float` for production, `Double` for probes and the
/// finite-difference checks (the same code, instantiated at Float64).
///
/// ```swift
/// Float.gemm(transA: false, transB: true, m: 2, n: 3, k: 4, alpha: 1,
///            a: a, lda: 4, b: b, ldb: 4, beta: 0, c: c, ldc: 3)
/// ```
public protocol BLASScalar: BinaryFloatingPoint {
    /// C = alpha · op(A) · op(B) + beta · C, row-major with explicit leading dimensions
    /// (so heads can be addressed as strided column blocks). No-op when m or n is 0.
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

@inline(__always)
private func transpose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: BLASScalar {
    @inline(__always)
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transpose(transA), transpose(transB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Double: BLASScalar {
    @inline(__always)
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_dgemm(CblasRowMajor, transpose(transA), transpose(transB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Thin views over OpenBLAS for row-major buffers: the one place the rest of the package reaches
/// BLAS from (LAPACK is in `LAPACK`, loops in `Parallel`).
///
/// ```swift
/// // C[m×n] = A[m×k] · B[k×n]
/// BLAS.gemm(a, b, &c, m: 2, n: 3, k: 4)
/// ```
public enum BLAS {
    /// The kernel OpenBLAS chose for this processor (or that `OPENBLAS_CORETYPE` forced), e.g.
    /// "Zen" or "Haswell"; `make bench` prints it beside its figures.
    ///
    ///     print(BLAS.coreName)   // "Haswell"
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// C = alpha · op(A) · op(B) + beta · C, all row-major and densely packed.
    /// `transA`: A is stored as k×m and used transposed; `transB`: B is stored as n×k.
    @inlinable
    public static func gemm<T: BLASScalar>(
        _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>,
        m: Int, n: Int, k: Int,
        transA: Bool = false, transB: Bool = false,
        alpha: T = 1, beta: T = 0
    ) {
        T.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
               a: a, lda: transA ? m : k, b: b, ldb: transB ? k : n, beta: beta, c: c, ldc: n)
    }

    /// Array convenience for `gemm`; sizes are checked.
    public static func gemm<T: BLASScalar>(
        _ a: [T], _ b: [T], _ c: inout [T],
        m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
        alpha: T = 1, beta: T = 0
    ) {
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "gemm: buffer too small")
        if m == 0 || n == 0 { return }
        if k == 0 {   // BLAS leaves C alone only for beta = 1; scale explicitly so every path agrees
            for i in 0..<(m * n) { c[i] = beta == 0 ? 0 : beta * c[i] }
            return
        }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    gemm(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, m: m, n: n, k: k,
                         transA: transA, transB: transB, alpha: alpha, beta: beta)
                }
            }
        }
    }

    /// C[m×n] = op(A) · op(B) as a new array (zero when k is 0).
    public static func product<T: BLASScalar>(_ a: [T], _ b: [T], m: Int, n: Int, k: Int,
                                              transA: Bool = false, transB: Bool = false) -> [T] {
        var c = [T](repeating: 0, count: m * n)
        gemm(a, b, &c, m: m, n: n, k: k, transA: transA, transB: transB)
        return c
    }

    /// Number of threads OpenBLAS uses (the environment's OPENBLAS_NUM_THREADS unless set here).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}
