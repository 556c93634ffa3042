import Core
import Foundation
import Testing
import TestSupport
@testable import Search

/// Exact top-k against numpy (scripts/reference/search_numpy.py → Fixtures/search_numpy.json):
/// every metric, unfiltered and with allow / exclude / per-query filters, for Flat and for index
/// types run in an exhaustive setting (IVF scanning all lists, HNSW with efSearch ≥ n).
@Suite(.ownThreads) struct NumpyReferenceTests {
    struct Expected: Decodable {
        var ids: [[Int64]]
        var scores: [[Double]]
        var filtered_ids: [[Int64]]
        var filtered_scores: [[Double]]
    }

    struct Fixture: Decodable {
        var dim: Int
        var k: Int
        var ids: [Int64]
        var base: [Float]
        var queries: [Float]
        var allow: [Int64]
        var exclude: [Int64]
        var exclude_per_query: [[Int64]]
        var results: [String: Expected]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/search_numpy.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    func check(_ got: [[Hit]], ids: [[Int64]], scores: [[Double]]) {
        #expect(got.count == ids.count)
        for (row, (wantIDs, wantScores)) in zip(got, zip(ids, scores)) {
            #expect(row.map(\.id) == wantIDs)
            for (h, s) in zip(row, wantScores) {
                #expect(abs(Double(h.score) - s) <= 1e-4 * max(1, abs(s)), "score \(h.score) vs numpy \(s)")
            }
        }
    }

    @Test(arguments: Metric.allCases, ["Flat", "IVF8,Flat", "HNSW32"])
    func matchesNumpy(metric: Metric, factory: String) throws {
        let f = Self.fixture
        let index = try VectorIndex(factory: IndexFactory(factory), metric: metric, dim: f.dim)
        try index.train(f.base)
        try index.add(ids: f.ids, vectors: f.base)
        let params = SearchParams(nprobe: 8, efSearch: 1000)
        // The fixture (scripts/reference/search_numpy.py) keys inner product by its numpy name.
        let want = f.results[metric == .ip ? "inner_product" : metric.rawValue]!
        check(try index.search(queries: f.queries, k: f.k, params: params), ids: want.ids, scores: want.scores)
        let filter = SearchFilter(allowOnly: f.allow, exclude: f.exclude, excludePerQuery: f.exclude_per_query)
        check(try index.search(queries: f.queries, k: f.k, params: params, filter: filter),
              ids: want.filtered_ids, scores: want.filtered_scores)
    }
}
