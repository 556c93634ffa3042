import Testing
@testable import Tensor

/// C = alpha·op(A)·op(B) + beta·C by the textbook triple loop in Double, row-major with leading
/// dimensions (the independent reference the BLAS wrapper is checked against).
func naiveGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
               a: [Double], lda: Int, b: [Double], ldb: Int, beta: Double, c: [Double], ldc: Int) -> [Double] {
    var out = c
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let x = transA ? a[p * lda + i] : a[i * lda + p]
                let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                s += x * y
            }
            out[i * ldc + j] = alpha * s + beta * c[i * ldc + j]
        }
    }
    return out
}

/// Deterministic values in [-1, 1) (an LCG; no dependence on the code under test).
func testValues(_ count: Int, seed: UInt64) -> [Double] {
    var x = seed
    return (0..<count).map { _ in
        x = x &* 6364136223846793005 &+ 1442695040888963407
        return Double(x >> 11) / Double(1 << 53) * 2 - 1
    }
}

struct BLASTests {
    static let combos: [(Bool, Bool)] = [(false, false), (true, false), (false, true), (true, true)]

    /// Every transpose combination, alpha/beta, padded leading dimensions, both precisions.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesTripleLoop(transA: Bool, transB: Bool) {
        let m = 5, n = 3, k = 7, pad = 2
        let (ar, ac) = transA ? (k, m) : (m, k)
        let (br, bc) = transB ? (n, k) : (k, n)
        let lda = ac + pad, ldb = bc + 1, ldc = n + 3
        let a = testValues(ar * lda, seed: 1), b = testValues(br * ldb, seed: 2), c = testValues(m * ldc, seed: 3)
        for (alpha, beta) in [(1.0, 0.0), (-0.75, 0.5), (2.0, 1.0)] {
            let want = naiveGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                 a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            var gotD = c
            Double.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                        b: b, ldb: ldb, beta: beta, c: &gotD, ldc: ldc)
            var gotF = c.map { Float($0) }
            Float.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: Float(alpha), a: a.map { Float($0) },
                       lda: lda, b: b.map { Float($0) }, ldb: ldb, beta: Float(beta), c: &gotF, ldc: ldc)
            for i in 0..<m {
                for j in 0..<ldc {
                    let idx = i * ldc + j
                    if j < n {
                        #expect(abs(gotD[idx] - want[idx]) < 1e-12, "double \(i),\(j) alpha \(alpha) beta \(beta)")
                        #expect(abs(Double(gotF[idx]) - want[idx]) < 1e-5, "float \(i),\(j) alpha \(alpha) beta \(beta)")
                    } else {   // padding columns of C are never written
                        #expect(gotD[idx] == c[idx] && gotF[idx] == Float(c[idx]))
                    }
                }
            }
        }
    }

    /// The packed array forms (`BLAS.gemm`, `BLAS.product`) agree with the triple loop too.
    @Test func packedArrayForms() {
        let m = 4, n = 6, k = 3
        for (ta, tb) in Self.combos {
            let a = testValues(m * k, seed: 11), b = testValues(k * n, seed: 12), c0 = testValues(m * n, seed: 13)
            let want = naiveGemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: ta ? m : k,
                                 b: b, ldb: tb ? k : n, beta: -1, c: c0, ldc: n)
            var c = c0
            BLAS.gemm(a, b, &c, m: m, n: n, k: k, transA: ta, transB: tb, alpha: 0.5, beta: -1)
            for i in 0..<(m * n) { #expect(abs(c[i] - want[i]) < 1e-12, "transA \(ta) transB \(tb) at \(i)") }
            let p = BLAS.product(a.map { Float($0) }, b.map { Float($0) }, m: m, n: n, k: k, transA: ta, transB: tb)
            let plain = naiveGemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: ta ? m : k,
                                  b: b, ldb: tb ? k : n, beta: 0, c: [Double](repeating: 0, count: m * n), ldc: n)
            for i in 0..<(m * n) { #expect(abs(Double(p[i]) - plain[i]) < 1e-5) }
        }
    }

    /// Empty inner dimension: C = beta·C (alpha·A·B is an empty sum), and empty outputs are no-ops.
    @Test func emptyDimensions() {
        var c: [Double] = [1, 2, 3, 4]
        BLAS.gemm([Double](), [Double](), &c, m: 2, n: 2, k: 0, beta: 0.5)
        #expect(c == [0.5, 1, 1.5, 2])
        #expect(BLAS.product([Double](), [Double](), m: 2, n: 3, k: 0) == [Double](repeating: 0, count: 6))
        var none: [Float] = []
        BLAS.gemm([Float](), [Float](repeating: 1, count: 3), &none, m: 0, n: 3, k: 1)
        #expect(none.isEmpty)
    }

}
