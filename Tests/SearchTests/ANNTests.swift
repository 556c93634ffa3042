import Core
import Foundation
import Testing
import TestSupport
@testable import Search

/// Approximate indexes (HNSW, IVF) against Flat on embedding-like synthetic data.
@Suite(.ownThreads) struct ANNTests {
    /// 20k clustered 384-d vectors (64-d intrinsic, 50 overlapping clusters) + 200 held-out queries.
    static let big: (base: [Float], queries: [Float]) = {
        let all = TestData.clustered(20_200, dim: 384, intrinsic: 64, clusters: 50, seed: 11)
        return (Array(all[0..<(20_000 * 384)]), Array(all[(20_000 * 384)...]))
    }()

    static func recall(_ approx: [[Hit]], _ exact: [[Hit]], k: Int) -> Double {
        var hit = 0
        for (a, e) in zip(approx, exact) { hit += Set(a.prefix(k).map(\.id)).intersection(e.prefix(k).map(\.id)).count }
        return Double(hit) / Double(exact.count * k)
    }

    @Test func hnswRecallAtLeast95Percent() throws {
        let (base, queries) = Self.big
        let ids = (0..<Int64(20_000)).map { $0 * 10 + 1 }
        let flat = try VectorIndex(factory: .flat, metric: .cosine, dim: 384)
        try flat.add(ids: ids, vectors: base)
        let hnsw = try VectorIndex(factory: .hnsw32, metric: .cosine, dim: 384)
        for start in stride(from: 0, to: 20_000, by: 5_000) {  // incremental adds, like ingestion
            try hnsw.add(ids: Array(ids[start..<(start + 5_000)]), vectors: Array(base[(start * 384)..<((start + 5_000) * 384)]))
        }
        #expect(hnsw.count == 20_000)
        let exact = try flat.search(queries: queries, k: 10)
        let approx = try hnsw.search(queries: queries, k: 10)
        let r = Self.recall(approx, exact, k: 10)
        print("HNSW32 recall@10 vs Flat (20k × 384 clustered, 64-d intrinsic, efSearch 64): \(r)")
        #expect(r >= 0.95)
        // Scores of HNSW hits are true cosines (same as Flat's for shared ids).
        let exactScore = Dictionary(exact[0].map { ($0.id, $0.score) }, uniquingKeysWith: { a, _ in a })
        for h in approx[0] { if let s = exactScore[h.id] { #expect(abs(s - h.score) < 1e-4) } }
        // efSearch is honoured per search (FAISS 1.7.3 ignores it in SearchParametersHNSW; the shim
        // works around that): a narrow beam loses recall, a wide one does not.
        let narrow = Self.recall(try hnsw.search(queries: queries, k: 10, params: SearchParams(efSearch: 10)), exact, k: 10)
        let wide = Self.recall(try hnsw.search(queries: queries, k: 10, params: SearchParams(efSearch: 256)), exact, k: 10)
        print("HNSW32 recall@10 at efSearch 10 / 64 / 256: \(narrow) / \(r) / \(wide)")
        #expect(narrow < wide)
        #expect(wide >= r - 0.005)

        // Filters on HNSW: exclusions and an allow-list are honoured per query.
        let allow = Array(ids[0..<10_000])
        let allowSet = Set(allow)
        let per = (0..<200).map { i in exact[i].prefix(2).map(\.id) }  // drop each query's two best
        let filter = SearchFilter(allowOnly: allow, exclude: Array(ids[0..<50]), excludePerQuery: per)
        let filtered = try hnsw.search(queries: queries, k: 10, filter: filter)
        let filteredExact = try flat.search(queries: queries, k: 10, filter: filter)
        for i in 0..<200 {
            for h in filtered[i] {
                #expect(allowSet.contains(h.id) && h.id > ids[49] && !per[i].contains(h.id))
            }
        }
        let rf = Self.recall(filtered, filteredExact, k: 10)
        print("HNSW32 filtered recall@10: \(rf)")
        #expect(rf >= 0.9)

        // A small allow-list (2.5% of the index, e.g. "restrict to these repositories") is answered
        // exactly: same ids as Flat under the same filter.
        let few = stride(from: 7, to: 20_000, by: 40).map { ids[$0] }
        let smallFilter = SearchFilter(allowOnly: few, excludePerQuery: (0..<200).map { [few[$0]] })
        let smallHNSW = try hnsw.search(queries: queries, k: 10, filter: smallFilter)
        let smallFlat = try flat.search(queries: queries, k: 10, filter: smallFilter)
        #expect(smallHNSW.map { $0.map(\.id) } == smallFlat.map { $0.map(\.id) })
        for (a, b) in zip(smallHNSW.joined(), smallFlat.joined()) { #expect(abs(a.score - b.score) < 1e-4) }

        // Deletes: tombstoned ids never come back; compaction keeps the rest searchable.
        let gone = Array(ids[0..<12_000])
        #expect(try hnsw.remove(ids: gone) == 12_000)  // > half: compacts
        #expect(hnsw.tombstones == 0)
        #expect(hnsw.count == 8_000)
        let after = try hnsw.search(queries: queries, k: 10)
        let goneSet = Set(gone)
        #expect(after.allSatisfy { $0.allSatisfy { !goneSet.contains($0.id) } })
        try flat.remove(ids: gone)
        #expect(Self.recall(after, try flat.search(queries: queries, k: 10), k: 10) >= 0.95)
        // Fewer deletions stay as tombstones and are filtered.
        let dead = Array(ids[12_000..<12_100])
        try hnsw.remove(ids: dead)
        #expect(hnsw.tombstones == 100)
        let deadSet = Set(dead)
        #expect(try hnsw.search(queries: queries, k: 50).allSatisfy { $0.allSatisfy { !deadSet.contains($0.id) } })
        // Re-adding a tombstoned id makes it live again, exactly once.
        try hnsw.add(ids: [dead[0]], vectors: Array(base[(12_000 * 384)..<(12_001 * 384)]))
        let selfHit = try hnsw.search(queries: Array(base[(12_000 * 384)..<(12_001 * 384)]), k: 5)[0]
        #expect(selfHit.first?.id == dead[0])
        #expect(selfHit.filter { $0.id == dead[0] }.count == 1)
    }

    static let mid: (base: [Float], queries: [Float]) = {
        let all = TestData.clustered(6_050, dim: 64, intrinsic: 24, clusters: 100, seed: 21)
        return (Array(all[0..<(6_000 * 64)]), Array(all[(6_000 * 64)...]))
    }()

    @Test(arguments: [Metric.cosine, .l2])
    func ivfFlatScanningAllListsIsExact(metric: Metric) throws {
        let (base, queries) = Self.mid
        let ids = (0..<Int64(6_000)).map { 5_000_000 - $0 }
        let flat = try VectorIndex(factory: .flat, metric: metric, dim: 64)
        try flat.add(ids: ids, vectors: base)
        let ivf = try VectorIndex(factory: IndexFactory("IVF32,Flat"), metric: metric, dim: 64)
        #expect(!ivf.isTrained)
        #expect(throws: SearchError.notTrained(factory: "IVF32,Flat")) { try ivf.add(ids: [1], vectors: Array(base[0..<64])) }
        #expect(throws: SearchError.notEnoughTrainingVectors(needed: 32, got: 10)) { try ivf.train(Array(base[0..<(10 * 64)])) }
        try ivf.train(Array(base[0..<(3_000 * 64)]))
        try ivf.add(ids: ids, vectors: base)
        #expect(ivf.defaultNprobe == 16)
        let exact = try flat.search(queries: queries, k: 10)
        let all = try ivf.search(queries: queries, k: 10, params: SearchParams(nprobe: 32))
        for (a, e) in zip(all, exact) {
            #expect(a.map(\.id) == e.map(\.id))
            for (x, y) in zip(a, e) { #expect(abs(x.score - y.score) <= 1e-3 * max(1, abs(y.score))) }
        }
        let one = try ivf.search(queries: queries, k: 10, params: SearchParams(nprobe: 1))
        // nprobe is honoured per search: one list misses neighbours that all lists find.
        #expect(Self.recall(one, exact, k: 10) < Self.recall(all, exact, k: 10))
        // Filters and removal on IVF.
        let filter = SearchFilter(exclude: exact.flatMap { $0.prefix(3).map(\.id) })
        let f = try ivf.search(queries: queries, k: 10, params: SearchParams(nprobe: 32), filter: filter)
        let fe = try flat.search(queries: queries, k: 10, filter: filter)
        #expect(f.map { $0.map(\.id) } == fe.map { $0.map(\.id) })
        try ivf.remove(ids: Array(ids[0..<3_000]))
        try flat.remove(ids: Array(ids[0..<3_000]))
        #expect(ivf.count == 3_000)
        let r = try ivf.search(queries: queries, k: 10, params: SearchParams(nprobe: 32))
        #expect(r.map { $0.map(\.id) } == (try flat.search(queries: queries, k: 10)).map { $0.map(\.id) })
    }

    @Test func ivfPQBuildsTrainsAndSearches() throws {
        let (base, queries) = Self.mid
        let ids = (0..<Int64(6_000)).map { $0 }
        let flat = try VectorIndex(factory: .flat, metric: .cosine, dim: 64)
        try flat.add(ids: ids, vectors: base)
        let pq = try VectorIndex(factory: IndexFactory("IVF32,PQ8"), metric: .cosine, dim: 64)
        try pq.train(base)
        try pq.add(ids: ids, vectors: base)
        let exact = try flat.search(queries: queries, k: 10)
        let approx = try pq.search(queries: queries, k: 10, params: SearchParams(nprobe: 32))
        let r = Self.recall(approx, exact, k: 10)
        print("IVF32,PQ8 recall@10 vs Flat (6k × 64 clustered, nprobe 32): \(r)")
        #expect(r >= 0.4)
        // Exclusions are honoured.
        let per = exact.map { $0.prefix(5).map(\.id) }
        let f = try pq.search(queries: queries, k: 10, params: SearchParams(nprobe: 32), filter: SearchFilter(excludePerQuery: per))
        for (row, ex) in zip(f, per) {
            #expect(row.count == 10)
            #expect(Set(row.map(\.id)).isDisjoint(with: ex))
        }
    }

    /// The shim's prefetching HNSW search is FAISS 1.7.3's algorithm: the same hits, scores and
    /// number of distances as FAISS's own search, for both metrics, several ef values, with and
    /// without a filter.
    @Test(arguments: [Metric.cosine, .l2]) func ownHNSWSearchGivesFAISSsResults(metric: Metric) throws {
        let all = TestData.clustered(5_200, dim: 64, intrinsic: 16, clusters: 20, seed: 7)
        let base = Array(all[0..<(5_000 * 64)]), queries = Array(all[(5_000 * 64)...])
        let ids = (0..<Int64(5_000)).map { $0 * 3 + 2 }
        let index = try VectorIndex(factory: IndexFactory("HNSW16"), metric: metric, dim: 64)
        try index.add(ids: ids, vectors: base)
        defer { VectorIndex.useOwnHNSWSearch(true) }
        for ef in [10, 32, 96] {
            for filter in [SearchFilter(), SearchFilter(exclude: Array(ids.prefix(500))),
                           SearchFilter(excludePerQuery: (0..<200).map { [ids[$0], ids[$0 + 1]] })] {
                let p = SearchParams(efSearch: ef, threads: 1)
                VectorIndex.useOwnHNSWSearch(false)
                let d0 = VectorIndex.hnswDistanceCountOnThisThread  // other tests search beside this one
                let theirs = try index.search(queries: queries, k: 10, params: p, filter: filter)
                let d1 = VectorIndex.hnswDistanceCountOnThisThread
                VectorIndex.useOwnHNSWSearch(true)
                let ours = try index.search(queries: queries, k: 10, params: p, filter: filter)
                let d2 = VectorIndex.hnswDistanceCountOnThisThread
                #expect(d2 - d1 == d1 - d0 && d1 > d0, "distances: FAISS \(d1 - d0), ours \(d2 - d1)")
                for (a, b) in zip(ours, theirs) {
                    #expect(a.map(\.id) == b.map(\.id))
                    #expect(a.map(\.score) == b.map(\.score))
                }
            }
        }
    }

    @Test func factoriesAreValidated() throws {
        #expect(throws: SearchError.self) { try IndexFactory("Bogus") }
        #expect(throws: SearchError.self) { try IndexFactory("IVF,Flat") }
        #expect(throws: SearchError.self) { try IndexFactory("PCA32,Flat") }
        #expect(throws: SearchError.self) { try IndexFactory("HNSW0") }
        #expect(try IndexFactory("IVF100,PQ8x4").kind == .ivfPQ(nlist: 100, m: 8, bits: 4))
        #expect(try IndexFactory("HNSW16,Flat").kind == .hnsw(m: 16))
        // Our ",efC{n}" suffix: HNSW only, 1...4096, kept in the string the index reports and saves.
        #expect(try IndexFactory("HNSW16,Flat,efC24").kind == .hnsw(m: 16))
        #expect(try IndexFactory("HNSW16,efC24").efConstruction == 24)
        #expect(try IndexFactory("HNSW16").efConstruction == nil)
        for bad in ["HNSW16,efC0", "HNSW16,efC5000", "HNSW16,efC", "HNSW16,efCx", "IVF16,Flat,efC40", "Flat,efC40", "HNSW16,efC40,Flat"] {
            #expect(throws: SearchError.self, "\(bad)") { try IndexFactory(bad) }
        }
    }

    /// `,efC{n}` reaches the graph: the index reports it, a saved file keeps it, and the default is
    /// max(40, 2M) (FAISS's own 40 is below HNSW32's 64 level-0 links).
    @Test func efConstructionIsSetKeptAndDefaulted() throws {
        let dir = TestData.tempDir()
        #expect(try VectorIndex(factory: .hnsw32, metric: .cosine, dim: 8).efConstruction == 2 * 32)
        #expect(try VectorIndex(factory: IndexFactory("HNSW8"), metric: .cosine, dim: 8).efConstruction == 40)
        #expect(try VectorIndex(factory: .flat, metric: .cosine, dim: 8).efConstruction == nil)
        let index = try VectorIndex(factory: IndexFactory("HNSW8,efC24"), metric: .cosine, dim: 8)
        #expect(index.efConstruction == 24)
        let vectors = TestData.clustered(300, dim: 8, intrinsic: 4, clusters: 5, seed: 3)
        try index.add(ids: (0..<Int64(300)).map { $0 + 1 }, vectors: vectors)
        let url = dir.appendingPathComponent("h.faissidx")
        try index.write(to: url, generation: 1)
        let (loaded, _) = try VectorIndex.load(from: url)
        #expect(loaded.factory.string == "HNSW8,efC24")
        #expect(loaded.efConstruction == 24)
        #expect(loaded.count == 300)
        // Well-formed but FAISS rejects it for this dimension (PQ7 does not divide 64).
        do {
            _ = try VectorIndex(factory: IndexFactory("IVF16,PQ7"), metric: .l2, dim: 64)
            Issue.record("FAISS accepted PQ7 on 64 dimensions")
        } catch let e as SearchError {
            guard case .faissRejected = e else { Issue.record("wrong error \(e)"); return }
            #expect(e.isBadInput)
        }
    }
}
