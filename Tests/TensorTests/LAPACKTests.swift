import Foundation
import Testing
@testable import Tensor

/// numpy results from scripts/reference/tensor_reference.py.
struct LAPACKFixture: Decodable {
    struct Eigen: Decodable { let n: Int; let a: [Double]; let values: [Double]; let vectors: [Double] }
    struct Cholesky: Decodable { let n: Int; let a: [Double]; let b: [Double]; let x: [Double] }
    let eigen: [Eigen]
    let cholesky: [Cholesky]

    static func load() throws -> LAPACKFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tensor_lapack.json")
        return try JSONDecoder().decode(LAPACKFixture.self, from: Data(contentsOf: url))
    }
}

struct LAPACKTests {
    @Test func symmetricEigenMatchesNumpy() throws {
        for c in try LAPACKFixture.load().eigen {
            let n = c.n
            var a = c.a, w = [Double](repeating: 0, count: n)
            #expect(LAPACK.symmetricEigen(&a, eigenvalues: &w, n: n, vectors: true) == 0)
            for i in 0..<n { #expect(abs(w[i] - c.values[i]) < 1e-10, "n \(n) value \(i)") }
            for j in 0..<n {   // columns, sign-normalised as the script does
                let col = (0..<n).map { a[$0 * n + j] }
                let big = col.indices.max { abs(col[$0]) < abs(col[$1]) }!
                let s: Double = col[big] < 0 ? -1 : 1
                for i in 0..<n { #expect(abs(s * col[i] - c.vectors[i * n + j]) < 1e-8, "n \(n) vector \(j) entry \(i)") }
                // A·v = λ·v on the original matrix.
                for i in 0..<n {
                    let av = (0..<n).reduce(0.0) { $0 + c.a[i * n + $1] * col[$1] }
                    #expect(abs(av - w[j] * col[i]) < 1e-10)
                }
            }
            var b = c.a, v2 = [Double](repeating: 0, count: n)
            #expect(LAPACK.symmetricEigen(&b, eigenvalues: &v2, n: n, vectors: false) == 0)
            for i in 0..<n { #expect(abs(v2[i] - c.values[i]) < 1e-10) }
        }
    }

    @Test func choleskySolveMatchesNumpy() throws {
        for c in try LAPACKFixture.load().cholesky {
            let n = c.n
            var l = c.a
            #expect(LAPACK.choleskyFactor(&l, n: n) == 0)
            var x = c.b
            #expect(LAPACK.choleskySolve(factor: l, n: n, &x) == 0)
            for i in 0..<n {
                #expect(abs(x[i] - c.x[i]) < 1e-9 * max(1, abs(c.x[i])), "n \(n) entry \(i)")
                let ax = (0..<n).reduce(0.0) { $0 + c.a[i * n + $1] * x[$1] }
                #expect(abs(ax - c.b[i]) < 1e-10, "residual n \(n) row \(i)")
            }
        }
    }

    @Test func choleskyRejectsIndefinite() {
        var a: [Double] = [1, 2, 2, 1]   // eigenvalues 3 and −1
        #expect(LAPACK.choleskyFactor(&a, n: 2) > 0)
    }
}
