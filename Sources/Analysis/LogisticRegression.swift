import Foundation
import Tensor

/// L2-penalised logistic regression with an unpenalised intercept, scikit-learn's
/// `LogisticRegression(C:, class_weight: "balanced")` semantics: it minimises
/// C·Σᵢ sᵢ·CEᵢ + ½‖W‖² with sᵢ = n / (K·n_{yᵢ}) (balanced) or 1. Two classes use one weight
/// vector and the sigmoid (positive class = the larger label); three or more use the full
/// multinomial (softmax) model with one row per class. The problem is strictly convex in W, so
/// any solver converging tightly reaches sklearn's optimum.
///
/// Solver: Newton–CG in whitened coordinates. The features are rotated onto the eigenvectors of
/// XᵀX and scaled to unit variance (directions with no variance are dropped: the optimum has no
/// component there), so the penalty becomes diagonal. Each Newton step is solved by conjugate
/// gradient preconditioned by the Hessian diagonal, or — from the first step whose CG needs more
/// than 20 iterations (and always for two classes) — by the Cholesky factor (LAPACK dpotrf) of the
/// exact Hessian, rebuilt only when CG slows down again (≤ 8 classes). Converged when
/// ‖∇‖∞ ≤ tolerance·max(1, ‖∇₀‖∞) or the Newton decrement reaches rounding level.
///
/// ```swift
/// let model = try LogisticRegression.fit(x: xTrain, count: n, dims: d, y: labels, c: 1)
/// let predicted = model.predict(xTest, count: m)
/// ```
public struct LogisticRegression: Sendable {
    /// Sorted distinct training labels.
    public let classes: [Int]
    /// Coefficients, rows × dims (rows = 1 for two classes, else one per class), row-major.
    public let coef: [Double]
    public let intercept: [Double]
    public let dims: Int
    public let iterations: Int
    public let converged: Bool

    public static func fit(x: [Double], count n: Int, dims d: Int, y: [Int], c: Double = 1,
                           balanced: Bool = true, tolerance: Double = 1e-10,
                           maxIterations: Int = 100) throws -> LogisticRegression {
        try checkShape(x.count, n, d, "logistic X")
        guard y.count == n else { throw AnalysisError.shapeMismatch("logistic y has \(y.count) labels, X has \(n) rows") }
        guard c > 0, c.isFinite else { throw AnalysisError.invalidArgument("C must be positive, got \(c)") }
        let classes = Array(Set(y)).sorted()
        guard classes.count >= 2 else { throw AnalysisError.singleClass(fold: -1, label: classes.first ?? 0) }
        var classIndex: [Int: Int] = [:]
        for (k, label) in classes.enumerated() { classIndex[label] = k }
        let target = y.map { classIndex[$0]! }
        var perClass = [Int](repeating: 0, count: classes.count)
        for t in target { perClass[t] += 1 }
        let weights = target.map { t in
            c * (balanced ? Double(n) / (Double(classes.count) * Double(perClass[t])) : 1)
        }

        // Whitening: U = X V Λ^{-1/2} over the directions with non-negligible variance.
        var v = BLAS.product(x, x, m: d, n: d, k: n, transA: true)
        let lambda = try symmetricEigen(&v, n: d, vectors: true)
        let top = lambda.last ?? 0
        let kept = (0..<d).filter { lambda[$0] > max(top, 1e-300) * 1e-12 }
        let r = kept.count
        var basis = [Double](repeating: 0, count: d * r)   // d×r: V[:, kept] · Λ^{-1/2}
        for (col, j) in kept.enumerated() {
            let s = 1 / lambda[j].squareRoot()
            for i in 0..<d { basis[i * r + col] = v[i * d + j] * s }
        }
        let u = BLAS.product(x, basis, m: n, n: r, k: d)
        let penalty = kept.map { 1 / lambda[$0] }

        let objective = LogisticObjective(x: u, n: n, d: r, rows: classes.count == 2 ? 1 : classes.count,
                                          target: target, weights: weights, penalty: penalty)
        let (theta, iterations, converged) = objective.minimise(tolerance: tolerance, maxIterations: maxIterations)

        // Back to the original coordinates: coef = W̃ · basisᵀ.
        let rows = objective.rows
        let wTilde = Array(theta[0..<(rows * r)])
        let coef = BLAS.product(wTilde, basis, m: rows, n: d, k: r, transB: true)
        var intercept = Array(theta[(rows * r)...])
        if rows > 1 {
            let mean = intercept.reduce(0, +) / Double(rows)
            for k in 0..<rows { intercept[k] -= mean }
        }
        return LogisticRegression(classes: classes, coef: coef, intercept: intercept, dims: d,
                                  iterations: iterations, converged: converged)
    }

    /// Decision values, m × rows.
    public func decision(_ x: [Double], count m: Int) -> [Double] {
        let rows = intercept.count
        var z = BLAS.product(x, coef, m: m, n: rows, k: dims, transB: true)
        for i in 0..<m { for k in 0..<rows { z[i * rows + k] += intercept[k] } }
        return z
    }

    /// Predicted labels (sklearn: decision > 0 → positive class; argmax, first on ties).
    public func predict(_ x: [Double], count m: Int) -> [Int] {
        let z = decision(x, count: m)
        let rows = intercept.count
        return (0..<m).map { i in
            if rows == 1 { return z[i] > 0 ? classes[1] : classes[0] }
            var best = 0
            for k in 1..<rows where z[i * rows + k] > z[i * rows + best] { best = k }
            return classes[best]
        }
    }
}

/// Σᵢ sᵢ·CEᵢ + ½ Σ_kj penalty_j·W_kj², parameters θ = [W (rows×d) row-major, b (rows)].
struct LogisticObjective {
    let x: [Double]
    let n: Int
    let d: Int
    let rows: Int
    let target: [Int]
    let weights: [Double]
    let penalty: [Double]

    var size: Int { rows * (d + 1) }

    /// Logits n×rows.
    func logits(_ theta: [Double]) -> [Double] {
        var z = BLAS.product(x, Array(theta[0..<(rows * d)]), m: n, n: rows, k: d, transB: true)
        for i in 0..<n { for k in 0..<rows { z[i * rows + k] += theta[rows * d + k] } }
        return z
    }

    /// Value, gradient and per-sample curvature state (sigmoid or softmax probabilities).
    func evaluate(_ theta: [Double]) -> (value: Double, gradient: [Double], prob: [Double]) {
        let z = logits(theta)
        var prob = [Double](repeating: 0, count: n * rows)
        var g = [Double](repeating: 0, count: n * rows)   // dLoss/dlogits
        var value = 0.0
        if rows == 1 {
            for i in 0..<n {
                let zi = z[i], yi = Double(target[i])
                let softplus = max(zi, 0) + log1p(exp(-abs(zi)))
                value += weights[i] * (softplus - yi * zi)
                let p = zi >= 0 ? 1 / (1 + exp(-zi)) : exp(zi) / (1 + exp(zi))
                prob[i] = p
                g[i] = weights[i] * (p - yi)
            }
        } else {
            for i in 0..<n {
                var m = -Double.infinity
                for k in 0..<rows { m = max(m, z[i * rows + k]) }
                var s = 0.0
                for k in 0..<rows { s += exp(z[i * rows + k] - m) }
                let lse = m + log(s)
                value += weights[i] * (lse - z[i * rows + target[i]])
                for k in 0..<rows {
                    let p = exp(z[i * rows + k] - lse)
                    prob[i * rows + k] = p
                    g[i * rows + k] = weights[i] * (p - (k == target[i] ? 1 : 0))
                }
            }
        }
        return (value + penaltyValue(theta), backProject(g, theta), prob)
    }

    func penaltyValue(_ theta: [Double]) -> Double {
        var s = 0.0
        for k in 0..<rows { for j in 0..<d { s += penalty[j] * theta[k * d + j] * theta[k * d + j] } }
        return 0.5 * s
    }

    /// [Gᵀ X + penalty ⊙ W, Σᵢ Gᵢ] for per-logit derivatives G (n×rows).
    func backProject(_ g: [Double], _ w: [Double]) -> [Double] {
        var out = BLAS.product(g, x, m: rows, n: d, k: n, transA: true)
        for k in 0..<rows { for j in 0..<d { out[k * d + j] += penalty[j] * w[k * d + j] } }
        var bias = [Double](repeating: 0, count: rows)
        for i in 0..<n { for k in 0..<rows { bias[k] += g[i * rows + k] } }
        return out + bias
    }

    /// Hessian–vector product at the point whose probabilities are `prob`.
    func hessianTimes(_ v: [Double], prob: [Double]) -> [Double] {
        let dz = logits(v)
        var r = [Double](repeating: 0, count: n * rows)
        if rows == 1 {
            for i in 0..<n { let p = prob[i]; r[i] = weights[i] * p * (1 - p) * dz[i] }
        } else {
            for i in 0..<n {
                var dot = 0.0
                for k in 0..<rows { dot += prob[i * rows + k] * dz[i * rows + k] }
                for k in 0..<rows { r[i * rows + k] = weights[i] * prob[i * rows + k] * (dz[i * rows + k] - dot) }
            }
        }
        return backProject(r, v)
    }

    /// Diagonal of the Hessian (Jacobi preconditioner).
    func hessianDiagonal(prob: [Double]) -> [Double] {
        var a = [Double](repeating: 0, count: n * rows)
        for i in 0..<n {
            for k in 0..<rows {
                let p = prob[i * rows + k]
                a[i * rows + k] = weights[i] * p * (1 - p)
            }
        }
        let xsq = x.map { $0 * $0 }
        var diag = BLAS.product(a, xsq, m: rows, n: d, k: n, transA: true)
        for k in 0..<rows { for j in 0..<d { diag[k * d + j] += penalty[j] } }
        var bias = [Double](repeating: 0, count: rows)
        for i in 0..<n { for k in 0..<rows { bias[k] += a[i * rows + k] } }
        return (diag + bias).map { max($0, 1e-12) }
    }

    /// Newton–CG. Stops when ‖∇‖∞ ≤ tolerance·max(1, ‖∇₀‖∞) or when the Newton decrement −∇·p
    /// falls to rounding level (≤ 1e-13·max(1, |f|)): the optimum to machine precision.
    func minimise(tolerance: Double, maxIterations: Int) -> (theta: [Double], iterations: Int, converged: Bool) {
        var theta = [Double](repeating: 0, count: size)
        var (f, g, prob) = evaluate(theta)
        let g0 = g.map(abs).max() ?? 0
        var iterations = 0
        var hessian: (([Double]) -> [Double])? = nil   // stale exact-Hessian preconditioner
        var rebuild = rows == 1
        while iterations < maxIterations {
            if (g.map(abs).max() ?? 0) <= tolerance * max(1, g0) { return (theta, iterations, true) }
            iterations += 1
            if rebuild { hessian = hessianPreconditioner(prob: prob) ?? hessian; rebuild = false }
            let precondition = hessian ?? jacobiPreconditioner(prob: prob)
            let gnorm = dot(g, g).squareRoot()
            let (step, cgIterations) = conjugateGradient(rhs: g.map { -$0 }, prob: prob, precondition: precondition,
                                                         forcing: min(0.1, gnorm.squareRoot()) * gnorm)
            // A slow solve means the preconditioner is missing or stale: refresh it at the next point.
            if cgIterations > 20 && rows <= LogisticObjective.maxHessianClasses { rebuild = true }
            let slope = dot(g, step)
            if -slope <= 1e-13 * max(1, abs(f)) { return (theta, iterations, true) }
            var t = 1.0
            var accepted = false
            for _ in 0..<60 {
                let candidate = zip(theta, step).map { $0 + t * $1 }
                let next = evaluate(candidate)
                if next.value <= f + 1e-4 * t * slope {
                    theta = candidate; (f, g, prob) = next
                    accepted = true
                    break
                }
                t *= 0.5
            }
            if !accepted { break }
        }
        let done = (g.map(abs).max() ?? 0) <= tolerance * max(1, g0)
        return (theta, iterations, done)
    }

    /// Preconditioned CG for H p = rhs, stopped at residual ≤ forcing; returns p and iterations.
    func conjugateGradient(rhs: [Double], prob: [Double], precondition: ([Double]) -> [Double],
                           forcing: Double) -> ([Double], Int) {
        var p = [Double](repeating: 0, count: size)
        var r = rhs
        var zr = precondition(r)
        var dir = zr
        var rz = dot(r, zr)
        var iterations = 0
        while iterations < 2 * size + 10 {
            if dot(r, r).squareRoot() <= forcing { break }
            iterations += 1
            let hd = hessianTimes(dir, prob: prob)
            let curvature = dot(dir, hd)
            guard curvature > 0 else { break }
            let a = rz / curvature
            for i in 0..<size { p[i] += a * dir[i]; r[i] -= a * hd[i] }
            zr = precondition(r)
            let rzNew = dot(r, zr)
            let beta = rzNew / rz
            rz = rzNew
            for i in 0..<size { dir[i] = zr[i] + beta * dir[i] }
        }
        return (p, iterations)
    }

    func jacobiPreconditioner(prob: [Double]) -> ([Double]) -> [Double] {
        let m = hessianDiagonal(prob: prob)
        return { r in zip(r, m).map { $0 / $1 } }
    }

    /// Up to this many classes the exact Hessian (rows² blocks of (d+1)², O(rows²·n·d²) to build)
    /// serves as preconditioner; beyond, the diagonal.
    static let maxHessianClasses = 8

    /// Cholesky factor (LAPACK dpotrf) of the exact Hessian at `prob`, in the per-class layout
    /// [W_k, b_k]; the intercept-shift direction, flat for the multinomial model, gets a small
    /// ridge. Used as a (possibly stale) preconditioner; nil if not positive definite.
    func hessianPreconditioner(prob: [Double]) -> (([Double]) -> [Double])? {
        let m = d + 1, size = rows * m
        var aug = [Double](repeating: 1, count: n * m)   // [U, 1]
        for i in 0..<n { for j in 0..<d { aug[i * m + j] = x[i * d + j] } }
        var h = [Double](repeating: 0, count: size * size)
        var scaled = [Double](repeating: 0, count: n * m)
        for k in 0..<rows {
            for l in k..<rows {
                for i in 0..<n {
                    let pk = prob[i * rows + k], pl = prob[i * rows + l]
                    let c = rows == 1 ? weights[i] * pk * (1 - pk) : weights[i] * pk * ((k == l ? 1 : 0) - pl)
                    for j in 0..<m { scaled[i * m + j] = c * aug[i * m + j] }
                }
                let block = BLAS.product(scaled, aug, m: m, n: m, k: n, transA: true)
                for a in 0..<m {
                    for b in 0..<m {
                        h[(k * m + a) * size + (l * m + b)] = block[a * m + b]
                        h[(l * m + b) * size + (k * m + a)] = block[a * m + b]
                    }
                }
            }
        }
        var interceptScale = 0.0
        for k in 0..<rows { interceptScale = max(interceptScale, h[(k * m + d) * size + (k * m + d)]) }
        for k in 0..<rows {
            for j in 0..<d { h[(k * m + j) * size + (k * m + j)] += penalty[j] }
            h[(k * m + d) * size + (k * m + d)] += 1e-6 * max(interceptScale, 1e-12)
        }
        let info = LAPACK.choleskyFactor(&h, n: size)
        guard info == 0 else { return nil }
        let (rows, d) = (self.rows, self.d)
        return { r in
            var v = [Double](repeating: 0, count: size)
            for k in 0..<rows {
                for j in 0..<d { v[k * m + j] = r[k * d + j] }
                v[k * m + d] = r[rows * d + k]
            }
            LAPACK.choleskySolve(factor: h, n: size, &v)
            var out = r
            for k in 0..<rows {
                for j in 0..<d { out[k * d + j] = v[k * m + j] }
                out[rows * d + k] = v[k * m + d]
            }
            return out
        }
    }
}

@inline(__always)
func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += a[i] * b[i] }
    return s
}
