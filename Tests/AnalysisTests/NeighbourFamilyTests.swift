import Core
import Foundation
import Testing
import TestSupport
@testable import Analysis

/// Template families (`FamilyRule`) and the random-pair threshold against references written here
/// in Double: a naive agglomeration that rescans every cluster pair, and sorted all-pairs quantiles.
extension NeighbourTests {
    /// Rows scaled to unit norm in Double.
    func unitRows(_ x: [Float], n: Int, d: Int) -> [Double] {
        var v = x.map(Double.init)
        for i in 0..<n {
            let norm = (0..<d).reduce(0.0) { $0 + v[i * d + $1] * v[i * d + $1] }.squareRoot()
            for t in 0..<d { v[i * d + t] /= norm }
        }
        return v
    }

    func dot(_ v: [Double], _ d: Int, _ i: Int, _ j: Int) -> Double { (0..<d).reduce(0.0) { $0 + v[i * d + $1] * v[j * d + $1] } }

    /// Mean similarity over all pairs of `members`.
    func meanPairSimilarity(_ v: [Double], _ d: Int, _ members: [Int]) -> Double {
        var s = 0.0, m = 0
        for a in members.indices { for b in members.indices where a < b { s += dot(v, d, members[a], members[b]); m += 1 } }
        return s / Double(m)
    }

    /// Reference average linkage: every step rescans all pairs of clusters joined by a mutual pair,
    /// averages their cross similarities pair by pair, and merges the best while it reaches τ.
    func naiveAverageLinkage(_ v: [Double], d: Int, mutual: [(Int, Int)], n: Int, tau: Double) -> [[Int]] {
        var clusters = (0..<n).map { [$0] }
        while true {
            var best: (Double, Int, Int)?
            for p in clusters.indices {
                for q in clusters.indices where p < q {
                    let P = Set(clusters[p]), Q = Set(clusters[q])
                    guard mutual.contains(where: { (P.contains($0.0) && Q.contains($0.1)) || (P.contains($0.1) && Q.contains($0.0)) }) else { continue }
                    var s = 0.0
                    for a in clusters[p] { for b in clusters[q] { s += dot(v, d, a, b) } }
                    s /= Double(clusters[p].count * clusters[q].count)
                    if best == nil || s > best!.0 { best = (s, p, q) }
                }
            }
            guard let (s, p, q) = best, s >= tau else { break }
            clusters[p] += clusters[q]
            clusters.remove(at: q)
        }
        return clusters.map { $0.sorted() }
    }

    func mutualPairs(_ lists: NeighbourLists) -> [(Int, Int)] {
        (0..<lists.count).flatMap { i in lists.neighbours(of: i).filter { $0 > i && lists.neighbours(of: $0).contains(i) }.map { (i, $0) } }
    }

    /// Two groups on a circle (around 0° and 90°), each with one outlier towards the other, the two
    /// outliers mutual neighbours (the bridge). With τ just below the bridge's similarity, single
    /// linkage chains both groups into one family; average linkage keeps them apart.
    @Test func averageLinkageKeepsABridgedPairOfGroupsApart() throws {
        let degrees: [Double] = [0, 2, 4, 20, 70, 86, 88, 90]
        let group = degrees.map { $0 < 45 ? 0 : 1 }
        let n = degrees.count, d = 2
        let x = degrees.flatMap { [Float(cos($0 * .pi / 180)), Float(sin($0 * .pi / 180))] }
        let repos = Array(0..<n)
        let unit = try NeighbourSearch.normalised(x, count: n, dims: d)
        let lists = try NeighbourSearch.topK(vectors: x, count: n, dims: d, k: 4, repos: repos)
        let v = unitRows(x, n: n, d: d)
        let mutual = mutualPairs(lists)
        let bridges = mutual.filter { group[$0.0] != group[$0.1] }
        try #require(bridges.count == 1, "the construction has one bridge: \(mutual)")
        let tau = dot(v, d, bridges[0].0, bridges[0].1) - 0.01
        // Every mutual pair reaches τ, so single linkage joins everything.
        #expect(mutual.allSatisfy { dot(v, d, $0.0, $0.1) >= tau })
        let single = try NeighbourAnalysis.summarize(lists, repos: repos, duplicateGroups: [Int?](repeating: nil, count: n),
                                                     rule: FamilyRule(linkage: .single, minSimilarity: tau), vectors: unit)
        #expect(single.families.map(\.members) == [Array(0..<n)])
        let average = try NeighbourAnalysis.summarize(lists, repos: repos, duplicateGroups: [Int?](repeating: nil, count: n),
                                                      rule: FamilyRule(linkage: .average, minSimilarity: tau), vectors: unit)
        let want = [0, 1].map { g in (0..<n).filter { group[$0] == g } }
        #expect(average.families.map(\.members) == want)
        #expect(average.linkage == .average && average.minSimilarity == tau)
        for f in average.families {
            #expect(abs(f.meanSimilarity! - meanPairSimilarity(v, d, f.members)) < 1e-6)
            #expect(f.meanSimilarity! >= tau)
        }
        // The bridge's ends are the least central members of their families.
        for (f, end) in zip(average.families, [bridges[0].0, bridges[0].1]) { #expect(f.central?.last == end) }
    }

    /// Random clustered data: the heap-based agglomeration equals the naive one, every family's
    /// mean similarity reaches τ and equals the pairwise mean, and the central order follows the
    /// similarity to the members' sum.
    @Test(arguments: [0.5, 0.8, 0.9])
    func averageLinkageMatchesNaiveAgglomeration(quantile: Double) throws {
        let n = 72, d = 8, k = 4
        let x = randomVectors(n: n, d: d, seed: 23, clusters: 5)
        let repos = (0..<n).map { ($0 * 5) % 9 }
        let unit = try NeighbourSearch.normalised(x, count: n, dims: d)
        let lists = try NeighbourSearch.topK(vectors: x, count: n, dims: d, k: k, repos: repos)
        let tau = try NeighbourSearch.pairQuantile(vectors: unit, count: n, dims: d, groups: repos, quantile: quantile).value
        let s = try NeighbourAnalysis.summarize(lists, repos: repos, duplicateGroups: [Int?](repeating: nil, count: n), minRepositories: 1,
                                                rule: FamilyRule(linkage: .average, minSimilarity: tau), vectors: unit)
        let v = unitRows(x, n: n, d: d)
        let want = naiveAverageLinkage(v, d: d, mutual: mutualPairs(lists), n: n, tau: tau).filter { $0.count >= 2 }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0[0] < $1[0] }
        #expect(s.families.map(\.members) == want)
        #expect(!s.families.isEmpty)
        for f in s.families {
            let mean = meanPairSimilarity(v, d, f.members)
            #expect(abs(f.meanSimilarity! - mean) < 1e-6 && mean >= tau - 1e-6)
            let toSum = f.members.map { m in f.members.reduce(0.0) { $0 + dot(v, d, m, $1) } }
            let central = try #require(f.central)
            #expect(Set(central) == Set(f.members))
            let scores = central.map { toSum[f.members.firstIndex(of: $0)!] }
            #expect(zip(scores, scores.dropFirst()).allSatisfy { $0 >= $1 - 1e-9 })
        }
        // Single linkage at the same τ never splits what average linkage joins.
        let single = try NeighbourAnalysis.summarize(lists, repos: repos, duplicateGroups: [Int?](repeating: nil, count: n), minRepositories: 1,
                                                     rule: FamilyRule(linkage: .single, minSimilarity: tau), vectors: unit)
        for f in s.families { #expect(single.families.contains { Set(f.members).isSubset(of: $0.members) }) }
    }

    /// All pairs: the ⌈q·m⌉-th smallest cross-group similarity, recomputed in Double; a sample
    /// lands near the same rank.
    @Test func pairQuantileIsTheSortedCrossGroupOrderStatistic() throws {
        let n = 150, d = 6
        let x = randomVectors(n: n, d: d, seed: 9, clusters: 4)
        let groups = (0..<n).map { $0 % 7 }
        let unit = try NeighbourSearch.normalised(x, count: n, dims: d)
        let v = unitRows(x, n: n, d: d)
        var sims = [Double]()
        for i in 0..<n { for j in (i + 1)..<n where groups[i] != groups[j] { sims.append(dot(v, d, i, j)) } }
        sims.sort()
        for q in [0.001, 0.5, 0.9, 0.999, 1] {
            let got = try NeighbourSearch.pairQuantile(vectors: unit, count: n, dims: d, groups: groups, quantile: q)
            #expect(got.exact && got.pairs == sims.count && got.quantile == q)
            #expect(abs(got.value - sims[Int((q * Double(sims.count)).rounded(.up)) - 1]) < 1e-6, "q \(q)")
        }
        let sampled = try NeighbourSearch.pairQuantile(vectors: unit, count: n, dims: d, groups: groups, quantile: 0.9, maxPairs: 4_000, seed: 3)
        #expect(!sampled.exact && sampled.pairs == 4_000)
        let rank = Double(sims.filter { $0 <= sampled.value }.count) / Double(sims.count)
        #expect(abs(rank - 0.9) < 0.03, "sampled quantile sits at rank \(rank)")
        let again = try NeighbourSearch.pairQuantile(vectors: unit, count: n, dims: d, groups: groups, quantile: 0.9, maxPairs: 4_000, seed: 3)
        #expect(again == sampled)
    }

    @Test func badFamilyInputThrows() throws {
        let x: [Float] = [1, 0, 0.9, 0.1, 0, 1]
        #expect(throws: AnalysisError.self) { try NeighbourSearch.pairQuantile(vectors: x, count: 3, dims: 2, groups: [0, 0, 0], quantile: 0.5) }
        #expect(throws: AnalysisError.self) { try NeighbourSearch.pairQuantile(vectors: x, count: 3, dims: 2, groups: [0, 1, 2], quantile: 0) }
        #expect(throws: AnalysisError.self) { try NeighbourSearch.pairQuantile(vectors: x, count: 3, dims: 2, groups: [0, 1, 2], quantile: 1.5) }
        #expect(throws: AnalysisError.self) { try NeighbourSearch.pairQuantile(vectors: x, count: 3, dims: 2, groups: [0, 1], quantile: 0.5) }
        let lists = try NeighbourSearch.topK(vectors: x, count: 3, dims: 2, k: 1, repos: [0, 1, 2])
        let none = [Int?](repeating: nil, count: 3)
        #expect(throws: AnalysisError.self) {  // average linkage needs the vectors
            try NeighbourAnalysis.summarize(lists, repos: [0, 1, 2], duplicateGroups: none, rule: FamilyRule(linkage: .average, minSimilarity: 0.5))
        }
        #expect(throws: AnalysisError.self) {  // vectors of the wrong length
            try NeighbourAnalysis.summarize(lists, repos: [0, 1, 2], duplicateGroups: none, rule: FamilyRule(linkage: .average), vectors: [1, 0, 1, 0, 1])
        }
        #expect(throws: AnalysisError.self) {
            try NeighbourAnalysis.summarize(lists, repos: [0, 1, 2], duplicateGroups: none, rule: FamilyRule(linkage: .single, minSimilarity: .nan))
        }
    }
}
