import Testing
import TestSupport
@testable import Training

@Suite(.ownThreads) struct RetrievalTests {
    /// Reference: sort every database row by score (Double), the rank is the first position whose
    /// duplicate group is the true one's.
    func referenceRank(_ q: [Float], _ db: [Float], dim: Int, truth: Int, groups: [Int]) -> Int {
        let n = db.count / dim
        let scores = (0..<n).map { j in (0..<dim).reduce(0.0) { $0 + Double(q[$1]) * Double(db[j * dim + $1]) } }
        let order = (0..<n).sorted { scores[$0] > scores[$1] }
        return order.firstIndex { groups[$0] == groups[truth] }! + 1
    }

    @Test func ranksMatchSortedReferenceWithDuplicateGroups() throws {
        var rng = TrainingRNG(seed: 21)
        let n = 300, dim = 12, q = 80
        let db = normalizeRows((0..<(n * dim)).map { _ in Float(rng.normal()) }, dim: dim)
        // Groups: every 7th function shares a group with the next one.
        let groups = (0..<n).map { $0 % 7 == 1 ? $0 - 1 : $0 }
        #expect(Set(groups).count < n)
        let truth = (0..<q).map { ($0 * 37) % n }
        // Noisy copies of the true rows: a spread of ranks, some hits only through a duplicate.
        var queries = [Float](repeating: 0, count: q * dim)
        for (r, t) in truth.enumerated() {
            let dup = t % 7 == 0 ? t + 1 : t
            for k in 0..<dim { queries[r * dim + k] = db[dup * dim + k] + Float(rng.normal()) * Float(r % 5) * 0.3 }
        }
        let ranks = try Retrieval.ranks(queries: queries, database: db, dim: dim, truth: truth, groups: groups, chunk: 17)
        for r in 0..<q {
            let ref = referenceRank(Array(queries[(r * dim)..<((r + 1) * dim)]), db, dim: dim, truth: truth[r], groups: groups)
            #expect(ranks[r] == ref, "query \(r)")
        }
        let m = Retrieval.metrics(ranks: ranks)
        #expect(m.rank1 == Double(ranks.filter { $0 == 1 }.count) / Double(q))
        #expect(m.rank10 == Double(ranks.filter { $0 <= 10 }.count) / Double(q))
        #expect(abs(m.mrr - ranks.map { 1 / Double($0) }.reduce(0, +) / Double(q)) < 1e-12)
        #expect(m.rank1 > 0 && m.rank1 < 1 && m.rank10 > m.rank1)
    }

    @Test func topKSkipsAndOrders() throws {
        var rng = TrainingRNG(seed: 22)
        let n = 50, dim = 6
        let db = (0..<(n * dim)).map { _ in Float(rng.normal()) }
        let lists = try Retrieval.topK(queries: db, database: db, dim: dim, k: 5) { a, b in a == b || (a + b) % 3 == 0 }
        for a in 0..<n {
            let scores = (0..<n).map { j in (0..<dim).reduce(Float(0)) { $0 + db[a * dim + $1] * db[j * dim + $1] } }
            let ref = (0..<n).filter { !($0 == a || (a + $0) % 3 == 0) }.sorted { scores[$0] > scores[$1] }.prefix(5)
            #expect(lists[a] == Array(ref))
        }
    }

    @Test func badShapesThrow() {
        #expect(throws: (any Error).self) {
            try Retrieval.ranks(queries: [1, 2], database: [1, 2, 3, 4], dim: 2, truth: [5], groups: [0, 1])
        }
    }
}
