import Core
import Foundation
import Testing
import TestSupport
@testable import Analysis

/// Neighbour search and summaries against independent brute-force paths written here.
@Suite(.ownThreads) struct NeighbourTests {
    /// Reference top-k: Double dot products, sort by (score desc, index asc), other repositories only.
    func naiveTopK(_ x: [Float], n: Int, d: Int, k: Int, repos: [Int], cosine: Bool) -> [[(Int, Double)]] {
        let v = x.map(Double.init)
        func dotRows(_ i: Int, _ j: Int) -> Double {
            var s = 0.0
            for t in 0..<d { s += v[i * d + t] * v[j * d + t] }
            return s
        }
        var out: [[(Int, Double)]] = []
        for i in 0..<n {
            var cands: [(Int, Double)] = []
            for j in 0..<n where repos[j] != repos[i] {
                let s = cosine ? dotRows(i, j) / (dotRows(i, i) * dotRows(j, j)).squareRoot() : dotRows(i, j)
                cands.append((j, s))
            }
            cands.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            out.append(Array(cands.prefix(k)))
        }
        return out
    }

    /// Reference summary: adjacency matrix, Floyd–Warshall closure, components as closure rows.
    func naiveSummary(lists: [[Int]], repos: [Int], dup: [Int?], minRepos: Int) -> (pairs: Int, dups: Int, mutual: Int, families: [[Int]]) {
        let n = lists.count
        var pairs = 0, dups = 0
        for i in 0..<n { for j in lists[i] { pairs += 1; if dup[i] != nil && dup[i] == dup[j] { dups += 1 } } }
        var reach = [[Bool]](repeating: [Bool](repeating: false, count: n), count: n)
        var mutual = 0
        for i in 0..<n {
            reach[i][i] = true
            for j in 0..<n where i != j && lists[i].contains(j) && lists[j].contains(i) {
                reach[i][j] = true
                if i < j { mutual += 1 }
            }
        }
        for m in 0..<n { for i in 0..<n where reach[i][m] { for j in 0..<n where reach[m][j] { reach[i][j] = true } } }
        var seen = Set<[Int]>()
        var families: [[Int]] = []
        for i in 0..<n {
            let comp = (0..<n).filter { reach[i][$0] }
            if seen.insert(comp).inserted, comp.count >= 2, Set(comp.map { repos[$0] }).count >= minRepos {
                families.append(comp)
            }
        }
        families.sort { $0.count != $1.count ? $0.count > $1.count : $0[0] < $1[0] }
        return (pairs, dups, mutual, families)
    }

    func randomVectors(n: Int, d: Int, seed: UInt64, clusters: Int) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let centres = (0..<(clusters * d)).map { _ in Float.random(in: -1...1, using: &rng) }
        return (0..<(n * d)).map { idx in
            centres[(idx / d) % clusters * d + idx % d] + 0.3 * Float.random(in: -1...1, using: &rng)
        }
    }

    @Test(arguments: [true, false])
    func bruteForceTopKMatchesNaive(cosine: Bool) throws {
        let n = 67, d = 9, k = 5
        let x = randomVectors(n: n, d: d, seed: 11, clusters: 6)
        let repos = (0..<n).map { ($0 * 7) % 5 }
        let got = try NeighbourSearch.topK(vectors: x, count: n, dims: d, k: k, repos: repos, cosine: cosine, chunk: 10)
        let want = naiveTopK(x, n: n, d: d, k: k, repos: repos, cosine: cosine)
        for i in 0..<n {
            for r in 0..<k {
                let (j, s) = want[i][r]
                #expect(abs(Double(got.scores[i * k + r]) - s) < 1e-5)
                // Ids agree unless two candidates are within float rounding of each other.
                let nearTie = want[i].indices.contains { $0 != r && abs(want[i][$0].1 - s) < 1e-5 }
                if !nearTie { #expect(Int(got.ids[i * k + r]) == j, "row \(i) rank \(r)") }
                #expect(repos[Int(got.ids[i * k + r])] != repos[i])
            }
        }
    }

    @Test func fewerCandidatesThanKArePadded() throws {
        let x: [Float] = [1, 0, 0.9, 0.1, 0, 1, 0.2, 0.8]
        let lists = try NeighbourSearch.topK(vectors: x, count: 4, dims: 2, k: 3, repos: [0, 0, 0, 1])
        let want = naiveTopK(x, n: 4, d: 2, k: 3, repos: [0, 0, 0, 1], cosine: true)
        for i in 0..<4 {
            #expect(lists.neighbours(of: i) == want[i].map(\.0))
            for r in want[i].count..<3 { #expect(lists.ids[i * 3 + r] == -1 && lists.scores[i * 3 + r].isNaN) }
        }
    }

    /// A hand-checkable graph. Repos: a=0, b=1, c=2, d=3. Lists (k = 2):
    /// 0(a)→1,2  1(b)→0,2  2(c)→0,1  : a triangle of mutual pairs over 3 repositories → a family.
    /// 3(a)→4,5  4(b)→3,6  5(c)→0,1  : 3–4 mutual only; 5 points away (nobody points back).
    /// 6(d)→4,0  : 4–6 mutual, so {3,4,6} spans a, b, d → a second family.
    /// 7(b)→8,0  8(c)→7,0  : 7–8 mutual over 2 repositories → not a family.
    @Test func summaryOfHandGraphMatchesClosure() throws {
        let lists = [[1, 2], [0, 2], [0, 1], [4, 5], [3, 6], [0, 1], [4, 0], [8, 0], [7, 0]]
        let repos = [0, 1, 2, 0, 1, 2, 3, 1, 2]
        let dup: [Int?] = [10, 10, nil, 11, 11, 10, nil, 12, 12]
        let ids = lists.flatMap { $0.map(Int32.init) }
        let summary = try NeighbourAnalysis.summarize(
            try NeighbourLists(count: 9, k: 2, ids: ids, scores: [Float](repeating: 0, count: 18)),
            repos: repos, duplicateGroups: dup)
        let want = naiveSummary(lists: lists, repos: repos, dup: dup, minRepos: 3)
        #expect(summary.pairs == want.pairs && summary.duplicatePairs == want.dups)
        #expect(summary.duplicateShare == Double(want.dups) / Double(want.pairs))
        #expect(summary.mutualPairs == want.mutual)
        #expect(summary.families.map(\.members) == want.families)
        for f in summary.families { #expect(f.repositories == Set(f.members.map { repos[$0] }).sorted()) }
        // With a two-repository threshold the 7–8 pair appears as well.
        let loose = try NeighbourAnalysis.summarize(
            try NeighbourLists(count: 9, k: 2, ids: ids, scores: [Float](repeating: 0, count: 18)),
            repos: repos, duplicateGroups: dup, minRepositories: 2)
        #expect(loose.families.map(\.members) == naiveSummary(lists: lists, repos: repos, dup: dup, minRepos: 2).families)
        #expect(loose.families.count > summary.families.count)
    }

    @Test func summaryOfSearchedNeighboursMatchesClosure() throws {
        let n = 80, d = 6, k = 3
        let x = randomVectors(n: n, d: d, seed: 5, clusters: 8)
        let repos = (0..<n).map { ($0 / 8) % 6 }
        let dup: [Int?] = (0..<n).map { $0 % 3 == 0 ? nil : $0 % 8 }
        let lists = try NeighbourSearch.topK(vectors: x, count: n, dims: d, k: k, repos: repos)
        let s = try NeighbourAnalysis.summarize(lists, repos: repos, duplicateGroups: dup)
        let want = naiveSummary(lists: (0..<n).map { lists.neighbours(of: $0) }, repos: repos, dup: dup, minRepos: 3)
        #expect(s.pairs == want.pairs && s.duplicatePairs == want.dups && s.mutualPairs == want.mutual)
        #expect(s.families.map(\.members) == want.families)
        #expect(!s.families.isEmpty)
        let json = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(NeighbourSummary.self, from: json) == s)
    }

    @Test func badInputThrows() throws {
        #expect(throws: AnalysisError.self) {
            try NeighbourSearch.topK(vectors: [1, 2, 3], count: 2, dims: 2, k: 1, repos: [0, 1])
        }
        #expect(throws: AnalysisError.zeroVector(index: 1)) {
            try NeighbourSearch.topK(vectors: [1, 2, 0, 0], count: 2, dims: 2, k: 1, repos: [0, 1])
        }
        let lists = try NeighbourLists(count: 2, k: 1, ids: [1, 5], scores: [0, 0])
        #expect(throws: AnalysisError.self) {
            try NeighbourAnalysis.summarize(lists, repos: [0, 1], duplicateGroups: [nil, nil])
        }
    }
}
