import Foundation
import Testing
import TestSupport
@testable import Analysis

/// Layer geometry against numpy (fixture from scripts/reference/analysis_sklearn.py).
@Suite(.ownThreads) struct LayerAnalysisTests {
    let layer = SklearnFixture.shared.layer

    @Test func statsMatchNumpy() throws {
        let row = try LayerAnalysis.stats(vectors: layer.X, count: layer.n, dims: layer.d, layer: 3)
        #expect(row.layer == 3 && row.n == layer.n && row.dims == layer.d)
        #expect(abs(row.meanCosine - layer.mean_cosine) < 1e-9, "mean cosine \(row.meanCosine) vs \(layer.mean_cosine)")
        #expect(abs(row.cosineStd - layer.std_cosine) < 1e-9, "cosine std \(row.cosineStd) vs \(layer.std_cosine)")
        #expect(abs(row.effectiveRank - layer.effective_rank) < 1e-6, "erank \(row.effectiveRank) vs \(layer.effective_rank)")
        let s = try LayerAnalysis.singularValues(vectors: layer.X, count: layer.n, dims: layer.d)
        #expect(s.count == layer.singular_values.count)
        for (a, b) in zip(s, layer.singular_values) { #expect(abs(a - b) < 1e-8 * layer.singular_values[0]) }
    }

    @Test func wideMatrixGramPathAgreesWithCovariancePath() throws {
        // n < d takes the n×n Gram route; compare with eigenvalues of the d×d covariance built here.
        let n = 10, d = layer.d
        let sub = Array(layer.X[0..<(n * d)])
        let gramPath = try LayerAnalysis.singularValues(vectors: sub, count: n, dims: d)
        var x = sub.map(Double.init)
        for j in 0..<d {
            let m = (0..<n).reduce(0.0) { $0 + x[$1 * d + j] } / Double(n)
            for i in 0..<n { x[i * d + j] -= m }
        }
        var cov = [Double](repeating: 0, count: d * d)
        for a in 0..<d { for b in 0..<d { for i in 0..<n { cov[a * d + b] += x[i * d + a] * x[i * d + b] } } }
        let lambda = try symmetricEigen(&cov, n: d, vectors: false)
        let covPath = lambda.reversed().prefix(n).map { max($0, 0).squareRoot() }
        #expect(gramPath.count == n)
        for (g, c) in zip(gramPath, covPath) { #expect(abs(g - c) < 1e-6 * gramPath[0]) }
        // Centring removes one direction: the smallest singular value is zero.
        #expect(gramPath[n - 1] < 1e-6 * gramPath[0])
    }

    @Test func pairwiseCosineMatchesExplicitPairs() throws {
        // Independent path: enumerate all pairs in Double.
        let n = layer.n, d = layer.d
        let x = layer.X.map(Double.init)
        var cos: [Double] = []
        for i in 0..<n {
            for j in (i + 1)..<n {
                var dij = 0.0, ni = 0.0, nj = 0.0
                for t in 0..<d { dij += x[i * d + t] * x[j * d + t]; ni += x[i * d + t] * x[i * d + t]; nj += x[j * d + t] * x[j * d + t] }
                cos.append(dij / (ni * nj).squareRoot())
            }
        }
        let mean = cos.reduce(0, +) / Double(cos.count)
        let std = (cos.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(cos.count)).squareRoot()
        let got = try LayerAnalysis.pairwiseCosine(vectors: layer.X, count: n, dims: d)
        #expect(abs(got.mean - mean) < 1e-10 && abs(got.std - std) < 1e-10)
    }

    @Test func effectiveRankOfKnownSpectra() {
        // Equal singular values: exp(H) = number of them; one non-zero: 1.
        #expect(abs(LayerAnalysis.effectiveRank(singularValues: [2, 2, 2, 2]) - 4) < 1e-12)
        #expect(abs(LayerAnalysis.effectiveRank(singularValues: [5, 0, 0]) - 1) < 1e-12)
        #expect(LayerAnalysis.effectiveRank(singularValues: [0, 0]) == 0)
    }

    @Test func badInputThrows() {
        #expect(throws: AnalysisError.zeroVector(index: 1)) {
            try LayerAnalysis.pairwiseCosine(vectors: [1, 0, 0, 0, 0, 1], count: 3, dims: 2)
        }
        #expect(throws: AnalysisError.self) { try LayerAnalysis.stats(vectors: [1, 2, 3], count: 2, dims: 2, layer: 0) }
        #expect(throws: AnalysisError.self) { try LayerAnalysis.pairwiseCosine(vectors: [1, 2], count: 1, dims: 2) }
    }

    @Test func sampleIsSeededSortedAndDistinct() {
        let a = LayerAnalysis.sample(count: 1000, size: 50, seed: 7)
        #expect(a == LayerAnalysis.sample(count: 1000, size: 50, seed: 7))
        #expect(a != LayerAnalysis.sample(count: 1000, size: 50, seed: 8))
        #expect(a.count == 50 && Set(a).count == 50 && a == a.sorted() && a.allSatisfy { $0 >= 0 && $0 < 1000 })
        #expect(LayerAnalysis.sample(count: 10, size: 50, seed: 7) == Array(0..<10))
    }
}
