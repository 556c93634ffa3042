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
        let x = cosine ? try normalised(vectors, count: n, dims: d) : vectors
        let top = TopK.search(queries: x, database: x, dim: d, k: k, chunk: chunk) { q, j in repos[j] == repos[q] }
        let ids = top.ids.map { Int32($0) }
        var scores = top.scores
        for i in 0..<(n * k) where ids[i] < 0 { scores[i] = .nan }
        return try NeighbourLists(count: n, k: k, ids: ids, scores: scores)
    }
}

/// A set of functions from several repositories linked by mutual nearest neighbours (see
/// `FamilyRule`).
public struct TemplateFamily: Codable, Sendable, Equatable {
    /// Row indices, ascending.
    public var members: [Int]
    /// Distinct repository ids of the members, ascending.
    public var repositories: [Int]
    /// Mean similarity over the members' pairs (nil when the vectors were not given).
    public var meanSimilarity: Double?
    /// The members by similarity to the family's mean vector, most central first (nil when the
    /// vectors were not given): the family's best examples.
    public var central: [Int]?

    enum CodingKeys: String, CodingKey { case members, repositories, meanSimilarity = "mean_similarity", central }
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
    /// How families were formed.
    public var linkage: FamilyLinkage
    /// The similarity threshold τ of the rule (nil: none).
    public var minSimilarity: Double?
    /// Template families, largest first (ties: smallest first member).
    public var families: [TemplateFamily]

    enum CodingKeys: String, CodingKey {
        case functions, k, pairs, families, linkage, minSimilarity = "min_similarity"
        case duplicatePairs = "duplicate_pairs", duplicateShare = "duplicate_share"
        case mutualPairs = "mutual_pairs", minRepositories = "min_repositories"
    }
}

/// Neighbour-list summaries.
///
/// Template family (the seed's Phase 0.2 notion, made precise): nodes are functions, and i, j
/// form a mutual pair when each is in the other's top-k list; families are grown from the mutual
/// pairs by `rule` (`FamilyRule`: components of the whole graph by default here, graph-constrained
/// average linkage at a threshold in the `neighbours` job), and a family is kept when it has at
/// least 2 members from at least `minRepositories` (default 3) distinct repositories.
///
/// ```swift
/// let summary = try NeighbourAnalysis.summarize(lists, repos: repoOfRow, duplicateGroups: dupOfRow)
/// print(summary.duplicateShare, summary.families.count)
/// ```
public enum NeighbourAnalysis {
    /// `vectors`: the rows the lists were searched on (unit rows for cosine), needed by `.average`;
    /// when given, every family also gets its mean similarity and most central members.
    public static func summarize(_ lists: NeighbourLists, repos: [Int], duplicateGroups: [Int?],
                                 minRepositories: Int = 3, rule: FamilyRule = .components,
                                 vectors: [Float]? = nil) throws -> NeighbourSummary {
        let n = lists.count, k = lists.k
        guard repos.count == n, duplicateGroups.count == n else {
            throw AnalysisError.shapeMismatch("\(n) neighbour lists, \(repos.count) repositories, \(duplicateGroups.count) duplicate groups")
        }
        guard minRepositories >= 1 else { throw AnalysisError.invalidArgument("minRepositories must be ≥ 1") }
        if let t = rule.minSimilarity, !t.isFinite { throw AnalysisError.invalidArgument("minSimilarity must be finite") }
        for id in lists.ids where id < -1 || Int(id) >= n {
            throw AnalysisError.invalidArgument("neighbour id \(id) outside 0..<\(n)")
        }
        var dims = 0
        if let vectors {
            guard n > 0, vectors.count % n == 0, vectors.count >= n else {
                throw AnalysisError.shapeMismatch("\(vectors.count) vector values for \(n) neighbour lists")
            }
            dims = vectors.count / n
            try checkFinite(vectors, "vectors")
        }
        var pairs = 0, duplicates = 0, mutual = 0
        for i in 0..<n {
            for r in 0..<k {
                let j = Int(lists.ids[i * k + r])
                guard j >= 0 else { continue }
                pairs += 1
                if let g = duplicateGroups[i], g == duplicateGroups[j] { duplicates += 1 }
                if j > i, lists.ids[(j * k)..<((j + 1) * k)].contains(Int32(i)) { mutual += 1 }
            }
        }
        let families = try clusters(lists, rule: rule, vectors: vectors).compactMap { found -> TemplateFamily? in
            let members = found.sorted()
            let repoSet = Set(members.map { repos[$0] })
            guard members.count >= 2, repoSet.count >= minRepositories else { return nil }
            var family = TemplateFamily(members: members, repositories: repoSet.sorted())
            if let vectors {
                let c = cohesion(members, vectors: vectors, dims: dims)
                family.meanSimilarity = c.mean; family.central = c.central
            }
            return family
        }.sorted { $0.members.count != $1.members.count ? $0.members.count > $1.members.count : $0.members[0] < $1.members[0] }
        return NeighbourSummary(functions: n, k: k, pairs: pairs, duplicatePairs: duplicates,
                                duplicateShare: pairs > 0 ? Double(duplicates) / Double(pairs) : 0,
                                mutualPairs: mutual, minRepositories: minRepositories, linkage: rule.linkage,
                                minSimilarity: rule.minSimilarity, families: families)
    }
}
