import Core
import Tensor

/// Retrieval quality of predictions: Rank@1, Rank@10 and mean reciprocal rank.
public struct RetrievalMetrics: Codable, Sendable, Equatable {
    public var rank1: Double
    public var rank10: Double
    public var mrr: Double
    public var count: Int
    public init(rank1: Double, rank10: Double, mrr: Double, count: Int) {
        self.rank1 = rank1; self.rank10 = rank10; self.mrr = mrr; self.count = count
    }
}

/// Exact inner-product retrieval with sgemm, and the rank metrics.
///
/// The rank of a query is the position of the first database row in the true function's duplicate
/// group (the true body itself or any duplicate counts as a hit): 1 + the number of rows outside the
/// group scoring strictly higher than the group's best.
///
/// ```swift
/// let r = Retrieval.ranks(queries: preds, database: targets, dim: 384, truth: ids, groups: groups)
/// let m = Retrieval.metrics(ranks: r)      // m.rank10, m.mrr
/// ```
public enum Retrieval {
    public static func metrics(ranks: [Int]) -> RetrievalMetrics {
        guard !ranks.isEmpty else { return RetrievalMetrics(rank1: 0, rank10: 0, mrr: 0, count: 0) }
        var r1 = 0, r10 = 0, rr = 0.0
        for r in ranks {
            if r <= 1 { r1 += 1 }
            if r <= 10 { r10 += 1 }
            if r < Int.max { rr += 1 / Double(r) }
        }
        let n = Double(ranks.count)
        return RetrievalMetrics(rank1: Double(r1) / n, rank10: Double(r10) / n, mrr: rr / n, count: ranks.count)
    }

    /// Exact ranks by brute force over the whole database (queries processed in chunks).
    public static func ranks(queries: [Float], database: [Float], dim: Int, truth: [Int], groups: [Int],
                             chunk: Int = 256) throws -> [Int] {
        let n = database.count / dim, q = truth.count
        guard queries.count == q * dim, database.count == n * dim, groups.count == n else {
            throw TrainingError.wrongDimension("retrieval: queries \(queries.count), database \(database.count), dim \(dim), groups \(groups.count) do not agree")
        }
        guard truth.allSatisfy({ (0..<n).contains($0) }) else {
            throw TrainingError.invalidArgument("retrieval: a true index is outside the database")
        }
        var members: [Int: [Int]] = [:]
        for (i, g) in groups.enumerated() { members[g, default: []].append(i) }
        var out = [Int](repeating: 0, count: q)
        TopK.forEachScoreRow(queries: queries, database: database, dim: dim, chunk: chunk) { i, row in
            let g = groups[truth[i]]
            var best = -Float.infinity
            for j in members[g]! where row[j] > best { best = row[j] }
            var above = 0
            for j in 0..<n where row[j] > best { above += 1 }  // group members never exceed best
            out[i] = above + 1
        }
        return out
    }

    /// Top-k database rows per query, best first (ties by lower index), leaving out rows for which
    /// `skip(query, row)`: `TopK.search` with the sizes checked.
    public static func topK(queries: [Float], database: [Float], dim: Int, k: Int, chunk: Int = 256,
                            skip: (Int, Int) -> Bool) throws -> [[Int]] {
        let n = database.count / dim, q = queries.count / dim
        guard queries.count == q * dim, database.count == n * dim, k >= 0 else {
            throw TrainingError.wrongDimension("topK: sizes do not agree with dim \(dim)")
        }
        let top = TopK.search(queries: queries, database: database, dim: dim, k: k, chunk: chunk, skip: skip)
        return (0..<q).map(top.row)
    }
}
