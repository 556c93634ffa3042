import Tensor

/// Ridge regression with an intercept whose penalty `alpha` is chosen from a grid by efficient
/// leave-one-out cross-validation, as scikit-learn's `RidgeCV(alphas:)` (cv=None, scoring=None,
/// gcv_mode auto): the alpha with the smallest mean squared LOO error wins (first on ties).
///
/// LOO residuals come from one eigen-decomposition (LAPACK dsyevd) of the centred covariance
/// XᵀX (when n > d) or Gram XXᵀ (n ≤ d): with hat matrix H = 1/n·11ᵀ + X(XᵀX + αI)⁻¹Xᵀ,
/// e_i = (y_i − ŷ_i) / (1 − H_ii), costing O(n·d) per alpha after the decomposition.
///
/// ```swift
/// let model = try RidgeCV.fit(x: xTrain, count: n, dims: d, y: y, alphas: [0.1, 1, 10])
/// let predictions = model.predict(xTest, count: m)
/// ```
public struct RidgeCV: Sendable {
    public let alpha: Double
    public let coef: [Double]
    public let intercept: Double
    /// Mean squared LOO error per alpha in the grid.
    public let looMeanSquaredError: [Double]

    public static func fit(x: [Double], count n: Int, dims d: Int, y: [Double], alphas: [Double]) throws -> RidgeCV {
        try checkShape(x.count, n, d, "ridge X")
        guard y.count == n else { throw AnalysisError.shapeMismatch("ridge y has \(y.count) values, X has \(n) rows") }
        guard n >= 2 else { throw AnalysisError.invalidArgument("ridge needs at least 2 samples, got \(n)") }
        guard !alphas.isEmpty, alphas.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw AnalysisError.invalidArgument("alphas must be a non-empty list of positive numbers")
        }
        let xMean = columnMeans(x, n: n, d: d)
        var xc = x
        for i in 0..<n { for j in 0..<d { xc[i * d + j] -= xMean[j] } }
        let yMean = y.reduce(0, +) / Double(n)
        let yc = y.map { $0 - yMean }

        // Z (n×r) and eigenvalues λ (r) such that the ridge hat matrix is Z·diag(w(α))·Zᵀ.
        let covariance = n > d
        let r = covariance ? d : n
        var z: [Double]
        var basis: [Double]   // V (d×d) for covariance, Q (n×n) for Gram
        let lambda: [Double]
        if covariance {
            basis = BLAS.product(xc, xc, m: d, n: d, k: n, transA: true)
            lambda = try symmetricEigen(&basis, n: d, vectors: true)
            z = BLAS.product(xc, basis, m: n, n: d, k: d)
        } else {
            basis = BLAS.product(xc, xc, m: n, n: n, k: d, transB: true)
            lambda = try symmetricEigen(&basis, n: n, vectors: true)
            z = basis
        }
        let zty = BLAS.product(z, yc, m: r, n: 1, k: n, transA: true)
        var zsq = z
        for i in 0..<zsq.count { zsq[i] *= zsq[i] }

        var best = 0
        var errors: [Double] = []
        var w = [Double](repeating: 0, count: r)
        for (ai, alpha) in alphas.enumerated() {
            for j in 0..<r { w[j] = covariance ? 1 / (lambda[j] + alpha) : lambda[j] / (lambda[j] + alpha) }
            let wzty = (0..<r).map { w[$0] * zty[$0] }
            let fitted = BLAS.product(z, wzty, m: n, n: 1, k: r)
            let hat = BLAS.product(zsq, w, m: n, n: 1, k: r)
            var sse = 0.0
            for i in 0..<n {
                let e = (yc[i] - fitted[i]) / (1 - hat[i] - 1 / Double(n))
                sse += e * e
            }
            errors.append(sse / Double(n))
            if errors[ai] < errors[best] { best = ai }
        }
        let alpha = alphas[best]
        let scaled = (0..<r).map { zty[$0] / (lambda[$0] + alpha) }
        let coef: [Double]
        if covariance {
            // (XᵀX + αI)⁻¹Xᵀy = V diag(1/(λ+α)) Vᵀ Xᵀ y, and Vᵀ Xᵀ y = Zᵀ y.
            coef = BLAS.product(basis, scaled, m: d, n: 1, k: d)
        } else {
            // Xᵀ(XXᵀ + αI)⁻¹y = Xᵀ Q diag(1/(λ+α)) Qᵀ y.
            let c = BLAS.product(basis, scaled, m: n, n: 1, k: n)
            coef = BLAS.product(xc, c, m: d, n: 1, k: n, transA: true)
        }
        var intercept = yMean
        for j in 0..<d { intercept -= xMean[j] * coef[j] }
        return RidgeCV(alpha: alpha, coef: coef, intercept: intercept, looMeanSquaredError: errors)
    }

    /// Predictions for an m×d matrix.
    public func predict(_ x: [Double], count m: Int) -> [Double] {
        var p = BLAS.product(x, coef, m: m, n: 1, k: coef.count)
        for i in 0..<m { p[i] += intercept }
        return p
    }
}
