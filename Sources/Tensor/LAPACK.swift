import CBLAS

/// The LAPACK routines the package uses, over row-major Double buffers. Each returns LAPACK's
/// `info` (0 on success) so callers map failures to their own errors.
///
/// ```swift
/// var a: [Double] = [4, 1, 1, 3]
/// var w = [Double](repeating: 0, count: 2)
/// let info = LAPACK.symmetricEigen(&a, eigenvalues: &w, n: 2, vectors: true)  // dsyevd
/// ```
public enum LAPACK {
    /// Eigen-decomposition of a symmetric n×n matrix (upper triangle read): eigenvalues ascending
    /// into `eigenvalues`; when `vectors`, `a` is overwritten by the eigenvectors as columns. `dsyevd`.
    public static func symmetricEigen(_ a: inout [Double], eigenvalues w: inout [Double], n: Int, vectors: Bool) -> Int32 {
        precondition(a.count >= n * n && w.count >= n, "symmetricEigen: buffer too small")
        if n == 0 { return 0 }
        return a.withUnsafeMutableBufferPointer { pa in
            w.withUnsafeMutableBufferPointer { pw in
                LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: vectors ? "V" : "N")),
                               CChar(UInt8(ascii: "U")), Int32(n), pa.baseAddress, Int32(n), pw.baseAddress)
            }
        }
    }

    /// Cholesky factor A = L·Lᵀ of a symmetric positive-definite n×n matrix, in place (lower
    /// triangle read and written). `dpotrf`; info > 0 when A is not positive definite.
    public static func choleskyFactor(_ a: inout [Double], n: Int) -> Int32 {
        precondition(a.count >= n * n, "choleskyFactor: buffer too small")
        return LAPACKE_dpotrf(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), &a, Int32(n))
    }

    /// Solves A·x = b in place in `b` (one right-hand side) given `choleskyFactor`'s output. `dpotrs`.
    @discardableResult
    public static func choleskySolve(factor: [Double], n: Int, _ b: inout [Double]) -> Int32 {
        precondition(factor.count >= n * n && b.count >= n, "choleskySolve: buffer too small")
        return LAPACKE_dpotrs(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), 1, factor, Int32(n), &b, 1)
    }
}
