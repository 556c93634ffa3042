import Core
import Foundation
import Testing
import TestSupport
@testable import Search

/// Flat (exact) search must equal a brute-force search computed here in Double precision.
@Suite(.ownThreads) struct FlatTests {
    let dim = 48
    let n = 2000

    /// Relative score tolerance. Measured: Float scores within 4.6e-7 (relative, max over all
    /// metrics, batch and single queries, filters) of the Double brute force; 2e-6 is ~4× that.
    static let tolerance = 2e-6

    /// Checks `hits` against brute force: the same ids in the same order with their exact scores.
    /// A different id at a rank is accepted only for a true tie, detected from the reference: the
    /// expected row's and the returned row's Double scores lie within the tolerance of each other,
    /// so Float rounding may order them either way (none occur in these data sets, whose closest
    /// consecutive reference scores are 3.9e-6 apart).
    func expectExact(_ hits: [Hit], query: ArraySlice<Float>, base: [Float], ids: [Int64], metric: Metric,
                     k: Int, allowed: (Int) -> Bool = { _ in true }) {
        let ref = TestData.bruteForce(query: query, base: base, dim: dim, metric: metric, k: k, allowed: allowed)
        #expect(hits.count == ref.count)
        let exact = TestData.scores(query: query, base: base, dim: dim, metric: metric)
        let rowOf = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        let tol = Self.tolerance
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= tol * max(1, abs(b)) }
        for (h, r) in zip(hits, ref) {
            #expect(close(Double(h.score), r.score), "rank score \(h.score) vs \(r.score)")
            guard let row = rowOf[h.id] else { Issue.record("unknown id \(h.id)"); continue }
            #expect(allowed(row), "hit \(h.id) violates the filter")
            #expect(close(Double(h.score), exact[row]), "own score \(h.score) vs \(exact[row])")
            if ids[r.row] != h.id {
                #expect(close(exact[row], r.score), "id \(h.id) (score \(exact[row])) instead of \(ids[r.row]) (\(r.score)): not a tie")
            }
        }
        #expect(Set(hits.map(\.id)).count == hits.count)
    }

    @Test(arguments: Metric.allCases)
    func flatEqualsBruteForce(metric: Metric) throws {
        let base = TestData.gaussian(n, dim: dim, seed: 1)
        let ids = (0..<Int64(n)).map { 1_000_000 + $0 * 7 }  // arbitrary, non-contiguous ids
        let queries = TestData.gaussian(20, dim: dim, seed: 2)
        let index = try VectorIndex(factory: .flat, metric: metric, dim: dim)
        try index.add(ids: ids, vectors: base)
        #expect(index.count == n)
        // A batch of 20 (BLAS path) and single queries (sequential path).
        let k = 15
        let batch = try index.search(queries: queries, k: k)
        #expect(batch.count == 20)
        for i in 0..<20 {
            let q = TestData.row(queries, i, dim: dim)
            expectExact(batch[i], query: q, base: base, ids: ids, metric: metric, k: k)
            let single = try index.search(queries: Array(q), k: k)
            expectExact(single[0], query: q, base: base, ids: ids, metric: metric, k: k)
        }
    }

    @Test(arguments: Metric.allCases)
    func flatFiltersMatchBruteForce(metric: Metric) throws {
        let base = TestData.gaussian(n, dim: dim, seed: 3)
        let ids = (0..<Int64(n)).map { $0 * 3 + 5 }
        let queries = TestData.gaussian(8, dim: dim, seed: 4)
        let index = try VectorIndex(factory: .flat, metric: metric, dim: dim)
        try index.add(ids: ids, vectors: base)
        let k = 10
        // Allow-only: every third row; exclude: rows divisible by 5; per query: the query's own
        // unfiltered top-3 (like "exclude the query itself and its duplicates").
        let allowRows = Set(stride(from: 0, to: n, by: 3))
        let excludeRows = Set(stride(from: 0, to: n, by: 5))
        var perQueryRows: [Set<Int>] = []
        for i in 0..<8 {
            let top = TestData.bruteForce(query: TestData.row(queries, i, dim: dim), base: base, dim: dim,
                                          metric: metric, k: 3, allowed: { allowRows.contains($0) })
            perQueryRows.append(Set(top.map(\.row)))
        }
        let filter = SearchFilter(allowOnly: allowRows.map { ids[$0] }, exclude: excludeRows.map { ids[$0] },
                                  excludePerQuery: perQueryRows.map { $0.map { ids[$0] } })
        let hits = try index.search(queries: queries, k: k, filter: filter)
        for i in 0..<8 {
            expectExact(hits[i], query: TestData.row(queries, i, dim: dim), base: base, ids: ids, metric: metric, k: k,
                        allowed: { allowRows.contains($0) && !excludeRows.contains($0) && !perQueryRows[i].contains($0) })
        }
        // A per-query filter without shared lists, threads forced to 2 (parallel per-query path).
        let own = SearchFilter(excludePerQuery: (0..<8).map { [ids[$0]] })
        let selfQueries = Array(base[0..<(8 * dim)])
        let hits2 = try index.search(queries: selfQueries, k: k, params: SearchParams(threads: 2), filter: own)
        for i in 0..<8 {
            #expect(!hits2[i].contains { $0.id == ids[i] })
            expectExact(hits2[i], query: TestData.row(selfQueries, i, dim: dim), base: base, ids: ids, metric: metric,
                        k: k, allowed: { $0 != i })
        }
    }

    @Test func emptyIndexesAnswerWithEmptyRows() throws {
        for factory in [IndexFactory.flat, .hnsw32] {
            let index = try VectorIndex(factory: factory, metric: .cosine, dim: 4)
            #expect(try index.search(queries: [1, 0, 0, 0, 0, 1, 0, 0], k: 3) == [[], []])
            try index.add(ids: [9], vectors: [1, 1, 0, 0])
            try index.remove(ids: [9])
            #expect(try index.search(queries: [1, 0, 0, 0], k: 3, filter: SearchFilter(exclude: [9])) == [[]])
            #expect(try index.search(queries: [], k: 3) == [])
        }
    }

    @Test func upsertRemoveAndSmallIndex() throws {
        let index = try VectorIndex(factory: .flat, metric: .l2, dim: 4)
        try index.add(ids: [10, 20, 30], vectors: [0, 0, 0, 0, 1, 0, 0, 0, 5, 5, 5, 5])
        // Fewer stored vectors than k: short rows, no padding ids.
        var hits = try index.search(queries: [0, 0, 0, 0], k: 10)[0]
        #expect(hits.map(\.id) == [10, 20, 30])
        #expect(hits.map(\.score) == [0, 1, 100])
        // Upsert moves id 30 next to the query; removal drops id 10.
        try index.add(ids: [30], vectors: [0, 0.5, 0, 0])
        #expect(try index.remove(ids: [10, 999]) == 1)
        hits = try index.search(queries: [0, 0, 0, 0], k: 10)[0]
        #expect(hits.map(\.id) == [30, 20])
        #expect(hits.map(\.score) == [0.25, 1])
        #expect(index.count == 2)
        #expect(try index.vector(for: 30) == [0, 0.5, 0, 0])
    }

    @Test func badInputThrowsTypedErrors() throws {
        let index = try VectorIndex(factory: .flat, metric: .cosine, dim: 4)
        try index.add(ids: [1], vectors: [1, 2, 3, 4])
        #expect(throws: SearchError.dimensionMismatch(expected: 4, got: 3)) { try index.add(ids: [2], vectors: [1, 2, 3]) }
        #expect(throws: SearchError.shapeMismatch(rows: 2, dim: 4, floats: 5)) { try index.add(ids: [2, 3], vectors: [1, 2, 3, 4, 5]) }
        #expect(throws: SearchError.nonFinite(row: 0, column: 2)) { try index.add(ids: [2], vectors: [1, 2, .nan, 4]) }
        #expect(throws: SearchError.nonFinite(row: 1, column: 0)) { try index.search(queries: [1, 1, 1, 1, .infinity, 0, 0, 0], k: 1) }
        #expect(throws: SearchError.dimensionMismatch(expected: 4, got: 5)) { try index.search(queries: [1, 2, 3, 4, 5], k: 1) }
        #expect(throws: SearchError.kOutOfRange(0)) { try index.search(queries: [1, 2, 3, 4], k: 0) }
        #expect(throws: SearchError.kOutOfRange(1001)) { try index.search(queries: [1, 2, 3, 4], k: 1001) }
        #expect(throws: SearchError.self) { try index.search(queries: [1, 2, 3, 4], k: 1, filter: SearchFilter(excludePerQuery: [])) }
        #expect(throws: SearchError.self) { try index.add(ids: [5, 5], vectors: [Float](repeating: 1, count: 8)) }
        #expect(throws: SearchError.self) { try VectorIndex(factory: .flat, dim: 0) }
        // The index is unchanged by all of the above.
        #expect(index.count == 1)
        #expect(try index.search(queries: [1, 2, 3, 4], k: 1000)[0].map(\.id) == [1])
    }
}
