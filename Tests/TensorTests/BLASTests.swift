import Testing
@testable import Tensor

@Test func gemmMatchesNaiveProduct() {
    let m = 3, n = 4, k = 5
    let a = (0..<(m * k)).map { Float($0 % 7) - 3 }
    let b = (0..<(k * n)).map { Float($0 % 5) * 0.5 - 1 }
    var c = [Float](repeating: 0, count: m * n)
    BLAS.gemm(a, b, &c, m: m, n: n, k: k)
    for i in 0..<m { for j in 0..<n {
        var s: Float = 0
        for p in 0..<k { s += a[i * k + p] * b[p * n + j] }
        #expect(abs(c[i * n + j] - s) < 1e-5)
    } }
    // Transposed operands give the same product.
    var at = [Float](repeating: 0, count: m * k)
    for i in 0..<m { for p in 0..<k { at[p * m + i] = a[i * k + p] } }
    var c2 = [Float](repeating: 0, count: m * n)
    BLAS.gemm(at, b, &c2, m: m, n: n, k: k, transA: true)
    #expect(c == c2)
}
