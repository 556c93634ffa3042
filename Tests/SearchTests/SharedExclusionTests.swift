import Core
import Foundation
import Testing
@testable import Search

/// Per-query exclusions as shared sets (one per repository / duplicate group, named by index from
/// each query) answer exactly what the same exclusions written out per query answer, on Flat and
/// HNSW, one thread and several; a reference to a set that does not exist is refused.
@Suite struct SharedExclusionTests {
    let dim = 8, n = 600

    @Test(arguments: [IndexFactory.flat, .hnsw32])
    func sharedSetsEqualPerQueryLists(factory: IndexFactory) throws {
        let base = TestData.gaussian(n, dim: dim, seed: 11)
        let ids = (0..<Int64(n)).map { $0 * 7 + 1 }
        let index = try VectorIndex(factory: factory, metric: .cosine, dim: dim)
        try index.add(ids: ids, vectors: base)
        // Three "repositories" (rows by i % 3) and groups of 4 consecutive rows; 30 queries from the stored rows.
        let repos = (0..<3).map { r in stride(from: r, to: n, by: 3).map { ids[$0] } }
        let groups = stride(from: 0, to: n, by: 4).map { g in Array(ids[g..<(g + 4)]) }
        let queryRows = Array(stride(from: 0, to: n, by: 20))
        var sets = repos + groups
        var setsOfQuery = [[Int]]()
        for row in queryRows {
            setsOfQuery.append([sets.count, row % 3, 3 + row / 4])
            sets.append([ids[row]])
        }
        let shared = QueryExclusions(sets: sets, setsOfQuery: setsOfQuery)
        let lists = queryRows.indices.map { shared.excluded(byQuery: $0) }
        let queries = queryRows.flatMap { TestData.row(base, $0, dim: dim) }
        for threads in [1, 2] {
            let a = try index.search(queries: queries, k: 10, params: SearchParams(threads: threads), filter: SearchFilter(perQuery: shared))
            let b = try index.search(queries: queries, k: 10, params: SearchParams(threads: threads), filter: SearchFilter(excludePerQuery: lists))
            #expect(a == b)
            for (q, hits) in a.enumerated() {
                #expect(!hits.isEmpty)
                #expect(hits.allSatisfy { !lists[q].contains($0.id) })
            }
        }
    }

    @Test func referencesMustNameASet() throws {
        let index = try VectorIndex(factory: .flat, metric: .cosine, dim: 2)
        try index.add(ids: [1, 2], vectors: [1, 0, 0, 1])
        let bad = QueryExclusions(sets: [[1]], setsOfQuery: [[1]])
        #expect(throws: SearchError.self) { try index.search(queries: [1, 0], k: 1, filter: SearchFilter(perQuery: bad)) }
        let wrongCount = QueryExclusions(sets: [[1]], setsOfQuery: [[0], [0]])
        #expect(throws: SearchError.self) { try index.search(queries: [1, 0], k: 1, filter: SearchFilter(perQuery: wrongCount)) }
        #expect(try index.search(queries: [1, 0], k: 1, filter: SearchFilter(perQuery: QueryExclusions(sets: [[1]], setsOfQuery: [[0]])))
            == [[Hit(id: 2, score: 0)]])
    }
}
