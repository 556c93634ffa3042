import Core
import Foundation
import Tensor

/// One row of a layer sweep: geometry of one layer's embeddings plus probe scores the caller adds.
public struct LayerStats: Codable, Sendable, Equatable {
    public var layer: Int
    public var n: Int
    public var dims: Int
    /// Mean cosine similarity over all pairs i < j (anisotropy).
    public var meanCosine: Double
    /// Population standard deviation of the pairwise cosines.
    public var cosineStd: Double
    /// Effective rank of the centred embeddings (Roy & Vetterli 2007).
    public var effectiveRank: Double
    /// Probe scores keyed by name, e.g. ["loc_r2": 0.71, "complexity_r2": 0.62].
    public var probes: [String: Double]

    public init(layer: Int, n: Int, dims: Int, meanCosine: Double, cosineStd: Double,
                effectiveRank: Double, probes: [String: Double] = [:]) {
        self.layer = layer; self.n = n; self.dims = dims; self.meanCosine = meanCosine
        self.cosineStd = cosineStd; self.effectiveRank = effectiveRank; self.probes = probes
    }

    enum CodingKeys: String, CodingKey {
        case layer, n, dims, probes
        case meanCosine = "mean_cosine", cosineStd = "cosine_std", effectiveRank = "effective_rank"
    }
}

/// Layer geometry: anisotropy and effective rank, exact for any n.
///
/// Pairwise cosines are not enumerated: with unit rows uᵢ and s = Σᵢ uᵢ,
/// Σ_{i<j} cos = (‖s‖² − Σ‖uᵢ‖²)/2 and Σ_{i<j} cos² = (‖UᵀU‖²_F − Σ‖uᵢ‖⁴)/2, so the mean and
/// standard deviation over all n(n−1)/2 pairs cost one d×d product (O(n·d²)) in Double.
///
/// Effective rank: exp(H(p)) with pₖ = σₖ/Σσ over the singular values σ of the centred matrix
/// (Roy & Vetterli 2007, "The effective rank: a measure of effective dimensionality"); σ come
/// from the eigenvalues of the d×d covariance (or n×n Gram when n < d), LAPACK dsyevd.
///
/// ```swift
/// let row = try LayerAnalysis.stats(vectors: embeddings, count: n, dims: 384, layer: 3)
/// print(row.meanCosine, row.cosineStd, row.effectiveRank)
/// ```
public enum LayerAnalysis {
    public static func stats(vectors: [Float], count n: Int, dims d: Int, layer: Int) throws -> LayerStats {
        let (mean, std) = try pairwiseCosine(vectors: vectors, count: n, dims: d)
        let erank = try effectiveRank(vectors: vectors, count: n, dims: d)
        return LayerStats(layer: layer, n: n, dims: d, meanCosine: mean, cosineStd: std, effectiveRank: erank)
    }

    /// Mean and population standard deviation of cos(xᵢ, xⱼ) over all pairs i < j.
    public static func pairwiseCosine(vectors: [Float], count n: Int, dims d: Int) throws -> (mean: Double, std: Double) {
        try checkShape(vectors.count, n, d, "vectors")
        guard n >= 2, d >= 1 else { throw AnalysisError.invalidArgument("need at least 2 vectors, got \(n)") }
        try checkFinite(vectors, "vectors")
        var u = vectors.map(Double.init)
        var sum = [Double](repeating: 0, count: d)
        var selfDot = 0.0, selfDot2 = 0.0
        for i in 0..<n {
            var norm = 0.0
            for j in 0..<d { norm += u[i * d + j] * u[i * d + j] }
            guard norm > 0 else { throw AnalysisError.zeroVector(index: i) }
            let inv = 1 / norm.squareRoot()
            var sq = 0.0
            for j in 0..<d { u[i * d + j] *= inv; sum[j] += u[i * d + j]; sq += u[i * d + j] * u[i * d + j] }
            selfDot += sq; selfDot2 += sq * sq
        }
        let gram = BLAS.product(u, u, m: d, n: d, k: n, transA: true)
        let frob = gram.reduce(0) { $0 + $1 * $1 }
        let pairs = Double(n) * Double(n - 1) / 2
        let sumCos = (dot(sum, sum) - selfDot) / 2
        let sumCos2 = (frob - selfDot2) / 2
        let mean = sumCos / pairs
        return (mean, max(0, sumCos2 / pairs - mean * mean).squareRoot())
    }

    /// Singular values (descending) of the column-centred n×d matrix.
    public static func singularValues(vectors: [Float], count n: Int, dims d: Int) throws -> [Double] {
        try checkShape(vectors.count, n, d, "vectors")
        guard n >= 1, d >= 1 else { throw AnalysisError.invalidArgument("need a non-empty matrix, got \(n)×\(d)") }
        try checkFinite(vectors, "vectors")
        var x = vectors.map(Double.init)
        let mean = columnMeans(x, n: n, d: d)
        for i in 0..<n { for j in 0..<d { x[i * d + j] -= mean[j] } }
        var g = n >= d ? BLAS.product(x, x, m: d, n: d, k: n, transA: true) : BLAS.product(x, x, m: n, n: n, k: d, transB: true)
        let lambda = try symmetricEigen(&g, n: min(n, d), vectors: false)
        return lambda.reversed().map { max($0, 0).squareRoot() }
    }

    /// exp(−Σ pₖ log pₖ), pₖ = σₖ / Σσ (Roy & Vetterli 2007); 0 for a matrix of identical rows.
    public static func effectiveRank(vectors: [Float], count n: Int, dims d: Int) throws -> Double {
        effectiveRank(singularValues: try singularValues(vectors: vectors, count: n, dims: d))
    }

    public static func effectiveRank(singularValues s: [Double]) -> Double {
        let total = s.reduce(0, +)
        guard total > 0 else { return 0 }
        var h = 0.0
        for v in s where v > 0 { let p = v / total; h -= p * log(p) }
        return exp(h)
    }

    /// A seeded sample of `size` row indices out of `count` (ascending); all rows when size ≥ count.
    public static func sample(count n: Int, size: Int, seed: UInt64) -> [Int] {
        guard size < n else { return Array(0..<n) }
        return SplitMix64.permutation(count: n, seed: seed).prefix(max(size, 0)).sorted()
    }
}
