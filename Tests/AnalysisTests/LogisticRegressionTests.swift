import Core
import Foundation
import Testing
import TestSupport
@testable import Analysis

/// Optimality of the logistic solver checked independently: the gradient of scikit-learn's
/// objective C·Σ sᵢ·CEᵢ + ½‖W‖², written out here in plain loops in the original coordinates,
/// must vanish at the returned coefficients (the problem is strictly convex in W, so this pins
/// the unique optimum), including near-separable data where the exact-Hessian preconditioner
/// takes over.
@Suite(.ownThreads) struct LogisticRegressionTests {
    func data(n: Int, d: Int, classes: Int, separation: Double, seed: UInt64) -> ([Double], [Int]) {
        var rng = SplitMix64(seed: seed)
        let centres = (0..<(classes * d)).map { _ in Double.random(in: -1...1, using: &rng) * separation }
        var x = [Double](), y = [Int]()
        for i in 0..<n {
            let c = i % classes == 0 ? 0 : Int(rng.next() % UInt64(classes))   // imbalanced
            y.append(c)
            for j in 0..<d { x.append(centres[c * d + j] + Double.random(in: -1...1, using: &rng) + (j == 1 ? 3 : 0)) }
        }
        return (x, y)
    }

    func objectiveGradient(_ m: LogisticRegression, x: [Double], y: [Int], n: Int, d: Int, c: Double) -> [Double] {
        let k = m.classes.count
        var counts = [Int: Int](); for v in y { counts[v, default: 0] += 1 }
        let rows = m.intercept.count
        var grad = m.coef + [Double](repeating: 0, count: rows)
        for i in 0..<n {
            let s = c * Double(n) / (Double(k) * Double(counts[y[i]]!))
            var z = [Double](repeating: 0, count: rows)
            for r in 0..<rows { z[r] = m.intercept[r]; for j in 0..<d { z[r] += m.coef[r * d + j] * x[i * d + j] } }
            var resid = [Double](repeating: 0, count: rows)
            if rows == 1 {
                resid[0] = 1 / (1 + exp(-z[0])) - (y[i] == m.classes[1] ? 1 : 0)
            } else {
                let mx = z.max()!
                let e = z.map { exp($0 - mx) }, total = e.reduce(0, +)
                for r in 0..<rows { resid[r] = e[r] / total - (m.classes[r] == y[i] ? 1 : 0) }
            }
            for r in 0..<rows {
                for j in 0..<d { grad[r * d + j] += s * resid[r] * x[i * d + j] }
                grad[rows * d + r] += s * resid[r]
            }
        }
        return grad
    }

    @Test(arguments: [(2, 1.0), (3, 0.5), (4, 3.0), (5, 6.0)])
    func solutionIsStationary(classes: Int, separation: Double) throws {
        let n = 400, d = 24, c = 1.0
        let (x, y) = data(n: n, d: d, classes: classes, separation: separation, seed: UInt64(classes))
        let m = try LogisticRegression.fit(x: x, count: n, dims: d, y: y, c: c)
        #expect(m.converged)
        #expect(m.classes == Array(0..<classes))
        let g = objectiveGradient(m, x: x, y: y, n: n, d: d, c: c)
        let worst = g.map(abs).max()!
        #expect(worst < 1e-6, "max |∇| = \(worst) after \(m.iterations) Newton steps")
        // Predictions follow the decision values.
        let pred = m.predict(x, count: n)
        #expect(Metrics.balancedAccuracy(truth: y, predicted: pred) > 1 / Double(classes))
    }

    @Test func constantColumnsAndDuplicatesAreHandled() throws {
        // Column 2 is constant and column 3 duplicates column 0: XᵀX is singular.
        let (base, y) = data(n: 120, d: 2, classes: 3, separation: 1, seed: 9)
        var x = [Double]()
        for i in 0..<120 { x += [base[i * 2], base[i * 2 + 1], 5, base[i * 2]] }
        let m = try LogisticRegression.fit(x: x, count: 120, dims: 4, y: y, c: 0.5)
        let g = objectiveGradient(m, x: x, y: y, n: 120, d: 4, c: 0.5)
        #expect(g.map(abs).max()! < 1e-6)
        // The penalty splits weight equally between duplicated columns.
        for r in 0..<3 { #expect(abs(m.coef[r * 4] - m.coef[r * 4 + 3]) < 1e-6) }
    }
}
