import Tensor

/// Top-k neighbours of every row: `ids[i*k + r]` is the r-th best neighbour of row i (−1 when
/// fewer than k candidates exist), `scores` the matching similarities, best first.
public struct NeighbourLists: Sendable, Equatable {
    public let count: Int
    public let k: Int
    public var ids: [Int32]
    public var scores: [Float]

    public init(count: Int, k: Int, ids: [Int32], scores: [Float]) throws {
        try checkShape(ids.count, count, k, "neighbour ids")
        try checkShape(scores.count, count, k, "neighbour scores")
        self.count = count; self.k = k; self.ids = ids; self.scores = scores
    }

    /// Neighbour row indices of row i (padding removed).
    public func neighbours(of i: Int) -> [Int] {
        ids[(i * k)..<((i + 1) * k)].filter { $0 >= 0 }.map(Int.init)
    }
}

/// Exact cross-repository k-nearest neighbours by brute force (sgemm over query chunks), for
/// when a FAISS index is not wanted. Candidates from the query's own repository (itself
/// included) are excluded. Similarity: cosine (rows L2-normalised) or raw inner product; ties go
/// to the lower row index.
///
/// ```swift
/// let lists = try NeighbourSearch.topK(vectors: v, count: n, dims: 384, k: 10, repos: repoOfRow)
/// let best = lists.neighbours(of: 0)
/// ```
public enum NeighbourSearch {
    public static func topK(vectors: [Float], count n: Int, dims d: Int, k: Int, repos: [Int],
                            cosine: Bool = true, chunk: Int = 512) throws -> NeighbourLists {
        try checkShape(vectors.count, n, d, "vectors")
        guard repos.count == n else { throw AnalysisError.shapeMismatch("\(repos.count) repositories for \(n) vectors") }
        guard k >= 1, chunk >= 1, d >= 1 else { throw AnalysisError.invalidArgument("k, chunk and dims must be ≥ 1") }
        try checkFinite(vectors, "vectors")
        var x = vectors
        if cosine {
            for i in 0..<n {
                var norm: Float = 0
                for j in 0..<d { norm += x[i * d + j] * x[i * d + j] }
                guard norm > 0 else { throw AnalysisError.zeroVector(index: i) }
                let inv = 1 / norm.squareRoot()
                for j in 0..<d { x[i * d + j] *= inv }
            }
        }
        let top = TopK.search(queries: x, database: x, dim: d, k: k, chunk: chunk) { q, j in repos[j] == repos[q] }
        let ids = top.ids.map { Int32($0) }
        var scores = top.scores
        for i in 0..<(n * k) where ids[i] < 0 { scores[i] = .nan }
        return try NeighbourLists(count: n, k: k, ids: ids, scores: scores)
    }
}

/// A set of functions from several repositories linked by mutual nearest neighbours.
public struct TemplateFamily: Codable, Sendable, Equatable {
    /// Row indices, ascending.
    public var members: [Int]
    /// Distinct repository ids of the members, ascending.
    public var repositories: [Int]
}

/// Summary of a `neighbours` job.
public struct NeighbourSummary: Codable, Sendable, Equatable {
    public var functions: Int
    public var k: Int
    /// Directed neighbour pairs (i, j) with j in i's list.
    public var pairs: Int
    /// Pairs whose two functions share a duplicate group.
    public var duplicatePairs: Int
    /// duplicatePairs / pairs (0 when there are no pairs).
    public var duplicateShare: Double
    /// Undirected mutual pairs: j in N(i) and i in N(j).
    public var mutualPairs: Int
    public var minRepositories: Int
    /// Template families, largest first (ties: smallest first member).
    public var families: [TemplateFamily]

    enum CodingKeys: String, CodingKey {
        case functions, k, pairs, families
        case duplicatePairs = "duplicate_pairs", duplicateShare = "duplicate_share"
        case mutualPairs = "mutual_pairs", minRepositories = "min_repositories"
    }
}

/// Neighbour-list summaries.
///
/// Template family (the seed's Phase 0.2 notion, made precise): build the mutual-kNN graph,
/// whose nodes are functions and whose edges join i and j when each is in the other's top-k
/// list; a family is a connected component of that graph whose members come from at least
/// `minRepositories` (default 3) distinct repositories.
///
/// ```swift
/// let summary = try NeighbourAnalysis.summarize(lists, repos: repoOfRow, duplicateGroups: dupOfRow)
/// print(summary.duplicateShare, summary.families.count)
/// ```
public enum NeighbourAnalysis {
    public static func summarize(_ lists: NeighbourLists, repos: [Int], duplicateGroups: [Int?],
                                 minRepositories: Int = 3) throws -> NeighbourSummary {
        let n = lists.count, k = lists.k
        guard repos.count == n, duplicateGroups.count == n else {
            throw AnalysisError.shapeMismatch("\(n) neighbour lists, \(repos.count) repositories, \(duplicateGroups.count) duplicate groups")
        }
        guard minRepositories >= 1 else { throw AnalysisError.invalidArgument("minRepositories must be ≥ 1") }
        for id in lists.ids where id < -1 || Int(id) >= n {
            throw AnalysisError.invalidArgument("neighbour id \(id) outside 0..<\(n)")
        }
        var pairs = 0, duplicates = 0
        var parent = Array(0..<n)
        func find(_ a: Int) -> Int {
            var a = a
            while parent[a] != a { parent[a] = parent[parent[a]]; a = parent[a] }
            return a
        }
        var mutual = 0
        for i in 0..<n {
            for r in 0..<k {
                let j = Int(lists.ids[i * k + r])
                guard j >= 0 else { continue }
                pairs += 1
                if let g = duplicateGroups[i], g == duplicateGroups[j] { duplicates += 1 }
                guard j > i, lists.ids[(j * k)..<((j + 1) * k)].contains(Int32(i)) else { continue }
                mutual += 1
                let a = find(i), b = find(j)
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var components: [Int: [Int]] = [:]
        for i in 0..<n { components[find(i), default: []].append(i) }
        let families = components.values.compactMap { members -> TemplateFamily? in
            let repoSet = Set(members.map { repos[$0] })
            guard members.count >= 2, repoSet.count >= minRepositories else { return nil }
            return TemplateFamily(members: members, repositories: repoSet.sorted())
        }.sorted { $0.members.count != $1.members.count ? $0.members.count > $1.members.count : $0.members[0] < $1.members[0] }
        return NeighbourSummary(functions: n, k: k, pairs: pairs, duplicatePairs: duplicates,
                                duplicateShare: pairs > 0 ? Double(duplicates) / Double(pairs) : 0,
                                mutualPairs: mutual, minRepositories: minRepositories, families: families)
    }
}
