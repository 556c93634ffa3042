import Core

/// How template families are grown from the mutual-kNN graph.
public enum FamilyLinkage: String, Codable, Sendable, CaseIterable {
    /// Connected components of the mutual pairs whose similarity reaches the threshold (the first
    /// rule; on a real corpus it chains everything into one giant family through bridge pairs).
    case single
    /// Average linkage constrained to the mutual-kNN graph (see `FamilyRule`).
    case average
}

/// The rule that turns mutual neighbour pairs into template families.
///
/// `.average` (the default of the `neighbours` job): start from singletons; two clusters are
/// *adjacent* when some mutual pair joins them; repeatedly merge the adjacent pair of clusters
/// with the highest average pairwise similarity ⟨ΣA, ΣB⟩ / (|A|·|B|) while that average is
/// ≥ `minSimilarity` (ties: the pair with the smaller cluster ids). By induction every family's
/// mean pairwise similarity is ≥ τ (a merged family's pairs are A's, B's and the A×B ones, each
/// group averaging ≥ τ), so one high bridge pair can no longer join two groups that are apart on
/// average, which is how single linkage chains a corpus into one giant family. This is
/// scikit-learn's `AgglomerativeClustering(linkage="average", connectivity=mutual graph,
/// distance_threshold=1−τ)`.
///
/// `.single`: connected components of the mutual pairs with similarity ≥ `minSimilarity`
/// (nil: every mutual pair, the original rule).
///
/// ```swift
/// let rule = FamilyRule(linkage: .average, minSimilarity: 0.92)
/// let s = try NeighbourAnalysis.summarize(lists, repos: r, duplicateGroups: d, rule: rule, vectors: unitRows)
/// ```
public struct FamilyRule: Sendable, Equatable {
    public var linkage: FamilyLinkage
    /// τ; nil: no threshold.
    public var minSimilarity: Double?

    public init(linkage: FamilyLinkage, minSimilarity: Double? = nil) {
        self.linkage = linkage; self.minSimilarity = minSimilarity
    }

    /// Components of the whole mutual-kNN graph.
    public static let components = FamilyRule(linkage: .single)
}

/// A similarity quantile over pairs of rows from different groups.
public struct PairQuantile: Codable, Sendable, Equatable {
    /// The quantile's value: the ⌈q·m⌉-th smallest of the m pair similarities.
    public var value: Double
    public var quantile: Double
    /// Pairs the value was taken over.
    public var pairs: Int
    /// True when every eligible pair was used, false for a seeded uniform sample.
    public var exact: Bool
}

extension NeighbourSearch {
    /// Rows scaled to unit L2 norm (throws on a zero row).
    ///
    /// ```swift
    /// let unit = try NeighbourSearch.normalised([3, 4], count: 1, dims: 2)   // [0.6, 0.8]
    /// ```
    public static func normalised(_ vectors: [Float], count n: Int, dims d: Int) throws -> [Float] {
        try checkShape(vectors.count, n, d, "vectors")
        var x = vectors
        for i in 0..<n {
            var norm: Float = 0
            for j in 0..<d { norm += x[i * d + j] * x[i * d + j] }
            guard norm > 0 else { throw AnalysisError.zeroVector(index: i) }
            let inv = 1 / norm.squareRoot()
            for j in 0..<d { x[i * d + j] *= inv }
        }
        return x
    }

    /// The `quantile` of the similarity (inner product of the given rows: pass unit rows for
    /// cosine) of pairs i < j with `groups[i] != groups[j]` — a chance level for "how alike are two
    /// unrelated functions". All pairs when there are at most `maxPairs` candidate pairs
    /// (n·(n−1)/2), otherwise `maxPairs` pairs drawn uniformly with SplitMix64(`seed`) (rejecting
    /// same-group draws).
    ///
    /// ```swift
    /// let tau = try NeighbourSearch.pairQuantile(vectors: unit, count: n, dims: d, groups: repoOfRow, quantile: 0.999)
    /// ```
    public static func pairQuantile(vectors x: [Float], count n: Int, dims d: Int, groups: [Int], quantile q: Double,
                                    maxPairs: Int = 1_000_000, seed: UInt64 = 0) throws -> PairQuantile {
        try checkShape(x.count, n, d, "vectors")
        guard groups.count == n else { throw AnalysisError.shapeMismatch("\(groups.count) groups for \(n) vectors") }
        guard q > 0, q <= 1 else { throw AnalysisError.invalidArgument("quantile must be in (0, 1]") }
        guard maxPairs >= 1 else { throw AnalysisError.invalidArgument("maxPairs must be ≥ 1") }
        func dot(_ i: Int, _ j: Int) -> Double {
            var s: Float = 0
            for t in 0..<d { s += x[i * d + t] * x[j * d + t] }
            return Double(s)
        }
        var sims = [Double]()
        let candidates = n * (n - 1) / 2
        var exact = true
        if candidates <= maxPairs {
            sims.reserveCapacity(candidates)
            for i in 0..<n { for j in (i + 1)..<max(i + 1, n) where groups[i] != groups[j] { sims.append(dot(i, j)) } }
        } else {
            exact = false
            var rng = SplitMix64(seed: seed)
            sims.reserveCapacity(maxPairs)
            var draws = 0
            while sims.count < maxPairs && draws < 50 * maxPairs {
                draws += 1
                let i = Int(rng.next() % UInt64(n)), j = Int(rng.next() % UInt64(n))
                guard i != j, groups[i] != groups[j] else { continue }
                sims.append(dot(i, j))
            }
        }
        guard !sims.isEmpty else { throw AnalysisError.invalidArgument("no pair of rows from different groups") }
        sims.sort()
        let rank = min(sims.count, max(1, Int((q * Double(sims.count)).rounded(.up))))
        return PairQuantile(value: sims[rank - 1], quantile: q, pairs: sims.count, exact: exact)
    }
}

extension NeighbourAnalysis {
    /// Families (member lists, unsorted) under `rule`; `x` holds the rows the lists were searched
    /// on (unit rows for cosine), nil only for `.single`.
    static func clusters(_ lists: NeighbourLists, rule: FamilyRule, vectors x: [Float]?) throws -> [[Int]] {
        let n = lists.count, k = lists.k
        var mutual = [(Int, Int, Float)]()
        for i in 0..<n {
            for r in 0..<k {
                let j = Int(lists.ids[i * k + r])
                guard j > i, lists.ids[(j * k)..<((j + 1) * k)].contains(Int32(i)) else { continue }
                mutual.append((i, j, lists.scores[i * k + r]))
            }
        }
        let tau = rule.minSimilarity ?? -.infinity
        switch rule.linkage {
        case .single:
            var parent = Array(0..<n)
            func find(_ a: Int) -> Int {
                var a = a
                while parent[a] != a { parent[a] = parent[parent[a]]; a = parent[a] }
                return a
            }
            for (i, j, s) in mutual where Double(s) >= tau {
                let a = find(i), b = find(j)
                if a != b { parent[max(a, b)] = min(a, b) }
            }
            var components: [Int: [Int]] = [:]
            for i in 0..<n { components[find(i), default: []].append(i) }
            return Array(components.values)
        case .average:
            guard let x, n > 0 else {
                if n == 0 { return [] }
                throw AnalysisError.invalidArgument("average linkage needs the vectors")
            }
            guard x.count % n == 0, x.count > 0 else { throw AnalysisError.shapeMismatch("\(x.count) values for \(n) vectors") }
            var agglomeration = AverageLinkage(vectors: x, count: n, dims: x.count / n, edges: mutual.map { ($0.0, $0.1) })
            return agglomeration.run(threshold: tau)
        }
    }

    /// Mean pairwise similarity of `members` (nil below 2) and the members ordered by similarity to
    /// the family's mean vector, best first (ties: lower index).
    static func cohesion(_ members: [Int], vectors x: [Float], dims d: Int) -> (mean: Double?, central: [Int]) {
        var sum = [Double](repeating: 0, count: d)
        var squares = 0.0
        for m in members {
            for t in 0..<d { let v = Double(x[m * d + t]); sum[t] += v; squares += v * v }
        }
        let c = Double(members.count)
        let total = sum.reduce(0) { $0 + $1 * $1 }
        let mean = members.count >= 2 ? (total - squares) / (c * (c - 1)) : nil
        let toCentre = members.map { m -> (Int, Double) in
            var s = 0.0
            for t in 0..<d { s += Double(x[m * d + t]) * sum[t] }
            return (m, s)
        }
        return (mean, toCentre.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.map(\.0))
    }
}

/// Graph-constrained average-linkage agglomeration (see `FamilyRule`), with a binary heap of
/// candidate merges and lazy invalidation by per-cluster versions.
struct AverageLinkage {
    let d: Int
    var sums: [Double]
    var size: [Int]
    var version: [Int]
    var members: [[Int]]
    var adjacent: [Set<Int>]
    var heap = MergeHeap()

    init(vectors x: [Float], count n: Int, dims: Int, edges: [(Int, Int)]) {
        d = dims
        sums = x.map(Double.init)
        size = [Int](repeating: 1, count: n)
        version = [Int](repeating: 0, count: n)
        members = (0..<n).map { [$0] }
        adjacent = [Set<Int>](repeating: [], count: n)
        for (i, j) in edges where i != j { adjacent[i].insert(j); adjacent[j].insert(i) }
    }

    func linkage(_ a: Int, _ b: Int) -> Double {
        var s = 0.0
        for t in 0..<d { s += sums[a * d + t] * sums[b * d + t] }
        return s / Double(size[a] * size[b])
    }

    mutating func push(_ a: Int, _ b: Int) {
        let (p, q) = (min(a, b), max(a, b))
        heap.push(MergeHeap.Entry(linkage: linkage(p, q), a: p, b: q, va: version[p], vb: version[q]))
    }

    /// The clusters after merging while the best adjacent average similarity is ≥ threshold.
    mutating func run(threshold: Double) -> [[Int]] {
        for a in adjacent.indices { for b in adjacent[a] where a < b { push(a, b) } }
        while let e = heap.pop(), e.linkage >= threshold {
            guard size[e.a] > 0, size[e.b] > 0, version[e.a] == e.va, version[e.b] == e.vb else { continue }
            // Merge b into a (a < b: the surviving id is the smaller one).
            let a = e.a, b = e.b
            for t in 0..<d { sums[a * d + t] += sums[b * d + t] }
            size[a] += size[b]; size[b] = 0
            members[a] += members[b]; members[b] = []
            version[a] += 1; version[b] += 1
            let moved = adjacent[b]
            adjacent[b] = []
            for c in moved where c != a { adjacent[c].remove(b); adjacent[c].insert(a); adjacent[a].insert(c) }
            adjacent[a].remove(b)
            for c in adjacent[a] { push(a, c) }
        }
        return members.filter { !$0.isEmpty }
    }
}

/// A max-heap of candidate merges: highest linkage first, ties to the smaller (a, b).
struct MergeHeap {
    struct Entry {
        var linkage: Double
        var a: Int, b: Int, va: Int, vb: Int
        func before(_ o: Entry) -> Bool {
            linkage != o.linkage ? linkage > o.linkage : (a != o.a ? a < o.a : b < o.b)
        }
    }
    private var items = [Entry]()

    mutating func push(_ e: Entry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard items[i].before(items[p]) else { break }
            items.swapAt(i, p); i = p
        }
    }

    mutating func pop() -> Entry? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < items.count && items[l].before(items[best]) { best = l }
            if r < items.count && items[r].before(items[best]) { best = r }
            if best == i { break }
            items.swapAt(i, best); i = best
        }
        return top
    }
}
