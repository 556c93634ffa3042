import Core
import Foundation
@testable import Search

/// Deterministic generator so every run sees the same vectors.
typealias SeededRandom = SplitMix64

extension SplitMix64 {
    mutating func gaussian() -> Float {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}

enum TestData {
    /// `n` i.i.d. Gaussian rows of `dim` floats.
    static func gaussian(_ n: Int, dim: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<(n * dim)).map { _ in rng.gaussian() }
    }

    /// Embedding-like data: a mixture of `clusters` Gaussians living in a random `intrinsic`-dim
    /// subspace of `dim`, plus small isotropic noise (random Gaussians are a poor HNSW test).
    /// `centreScale` spreads the cluster centres (smaller: clusters overlap more, a harder index).
    static func clustered(_ n: Int, dim: Int, intrinsic: Int = 32, clusters: Int = 200, centreScale: Float = 2,
                          seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        let basis = (0..<(intrinsic * dim)).map { _ in rng.gaussian() / Float(intrinsic).squareRoot() }
        let centres = (0..<(clusters * intrinsic)).map { _ in rng.gaussian() * centreScale }
        var out = [Float](repeating: 0, count: n * dim)
        var z = [Float](repeating: 0, count: intrinsic)
        basis.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    let c = Int.random(in: 0..<clusters, using: &rng)
                    for a in 0..<intrinsic { z[a] = centres[c * intrinsic + a] + rng.gaussian() }
                    let row = o.baseAddress! + i * dim
                    for j in 0..<dim { row[j] = 0.05 * rng.gaussian() }
                    for a in 0..<intrinsic {
                        let za = z[a]
                        let br = b.baseAddress! + a * dim
                        for j in 0..<dim { row[j] += za * br[j] }
                    }
                }
            }
        }
        return out
    }

    /// Exact scores of every stored row against one query (Double accumulation).
    static func scores(query: ArraySlice<Float>, base: [Float], dim: Int, metric: Metric) -> [Double] {
        let q = Array(query)
        let n = base.count / dim
        func norm(_ v: ArraySlice<Float>) -> Double { v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }
        let qn = norm(query)
        return (0..<n).map { i in
            let row = base[(i * dim)..<((i + 1) * dim)]
            switch metric {
            case .l2:
                return zip(q, row).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
            case .ip:
                return zip(q, row).reduce(0) { $0 + Double($1.0) * Double($1.1) }
            case .cosine:
                let dot = zip(q, row).reduce(0) { $0 + Double($1.0) * Double($1.1) }
                return dot / max(qn * norm(row), 1e-30)
            }
        }
    }

    /// Brute-force top-k as (row, score), best first, among rows `allowed` says yes to.
    static func bruteForce(query: ArraySlice<Float>, base: [Float], dim: Int, metric: Metric, k: Int,
                           allowed: (Int) -> Bool = { _ in true }) -> [(row: Int, score: Double)] {
        let s = scores(query: query, base: base, dim: dim, metric: metric)
        let rows = s.indices.filter(allowed)
        let sorted = rows.sorted { metric.higherIsCloser ? s[$0] > s[$1] : s[$0] < s[$1] }
        return sorted.prefix(k).map { ($0, s[$0]) }
    }

    static func row(_ m: [Float], _ i: Int, dim: Int) -> ArraySlice<Float> { m[(i * dim)..<((i + 1) * dim)] }

    static func tempDir(_ name: String = #function) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("searchtests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
