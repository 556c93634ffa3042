import Core
import Foundation
import Search
import Services
import Store
import Testing
import TestSupport

/// A space whose HNSW index grew by writes (never rebuilt) gets a recall curve, and asks for a new one
/// once it has grown by `IndexCatalog.recalibrateAfterGrowth` since the last measurement.
@Suite struct RecallRefreshTests {
    /// A store with `n` functions, an empty HNSW16 space "s" (16-d, cosine), seeded vectors for them
    /// and a `write(range)` that upserts a range of them through the `VectorWriter`.
    static func hnswSpace(in dir: URL, n: Int, seed: UInt64) async throws
        -> (SQLiteStore, SearchService, (ids: [Int64], vectors: [[Float]]), (Range<Int>) async throws -> Void) {
        let store = try SQLiteStore(directory: dir)
        let search = SearchService(store: store, dataDirectory: dir)
        let writer = VectorWriter(store: store, search: search)
        let ids = try await store.upsertFunctions((0..<n).map { i in
            FunctionInput(repo: "r", path: "m.py", qualifiedName: "f\(i)", startLine: 1, endLine: 2,
                          signature: "def f\(i)():", body: "    return \(i)\n")
        }).ids
        _ = try await store.createSpace(SpaceInput(name: "s", kind: .custom, dim: 16, metric: .cosine, indexFactory: "HNSW16"))
        let vectors = seededVectors(n, 16, seed: seed)
        let write: (Range<Int>) async throws -> Void = { r in
            _ = try await writer.upsert(space: "s", VectorBatch(ids: Array(ids[r]), values: vectors[r].flatMap { $0 }))
        }
        return (store, search, (ids, vectors), write)
    }

    @Test func anIndexGrownByWritesIsMeasuredAndMeasuredAgainAfterAQuarterMore() async throws {
        let dir = try makeTemporaryDirectory("recall-refresh")
        defer { removeTemporaryDirectory(dir) }
        let (store, search, _, write) = try await Self.hnswSpace(in: dir, n: 1_100, seed: 3)
        let writer = VectorWriter(store: store, search: search)
        try await write(0..<800)
        // Built by writes alone: no curve yet, so one is wanted.
        #expect(search.catalog.info(space: "s")?.calibration.curve == nil)
        #expect(search.catalog.needsCalibration(space: "s"))
        let cal = try await search.calibrate(space: "s")
        #expect(cal.curve?.count == 800 && cal.curve?.knob == .efSearch)
        #expect(cal.curve?.heldOut == false)  // a live index: its own vectors are the queries
        #expect(!search.catalog.needsCalibration(space: "s"))
        #expect(FileManager.default.fileExists(atPath: search.catalog.calibrationURL(for: "s").path))
        try await write(800..<999)  // +24.9 %
        #expect(!search.catalog.needsCalibration(space: "s"))
        try await write(999..<1_000)  // +25 %
        #expect(search.catalog.needsCalibration(space: "s"))
        #expect(try await search.calibrate(space: "s").curve?.count == 1_000)
        // Deleting the space drops its calibration file with its index.
        #expect(try await writer.deleteSpace(named: "s"))
        #expect(!FileManager.default.fileExists(atPath: search.catalog.calibrationURL(for: "s").path))
    }

    /// An HNSW index measured at a rebuild (held-out queries) that then grows by a quarter is rebuilt
    /// in the background when a search notices, and measured again with held-out queries (measured in
    /// place it would promise more recall than new queries get); searches keep answering meanwhile.
    @Test func anHNSWIndexThatOutgrewItsCurveIsRebuiltAndMeasuredWithHeldOutQueries() async throws {
        let dir = try makeTemporaryDirectory("recall-regrow")
        defer { removeTemporaryDirectory(dir) }
        let n = 1_000
        let (store, search, data, write) = try await Self.hnswSpace(in: dir, n: n, seed: 5)
        let (ids, vectors) = data
        try await write(0..<800)
        // The writes may have started a build of their own (a new space's index): wait for it.
        for _ in 0..<600 where search.catalog.info(space: "s")?.rebuilding != false { try await Task.sleep(nanoseconds: 50_000_000) }
        let built = try await search.reindex(space: "s", factory: "HNSW16", metric: .cosine)
        #expect(built.calibration.curve?.heldOut == true && built.calibration.curve?.count == 800)
        try await write(800..<1_000)  // +25 %
        #expect(search.catalog.needsCalibration(space: "s"))
        let space = try #require(try await store.space(named: "s"))
        let hits = try await search.search(space: space, queries: vectors[3], k: 5, params: SearchParams())
        #expect(hits.first?.first?.id == ids[3])
        var measured: RecallCurve?
        for _ in 0..<600 {
            if let c = search.catalog.info(space: "s")?.calibration.curve, c.count == n { measured = c; break }
            _ = try await search.search(space: space, queries: vectors[7], k: 5, params: SearchParams())  // served meanwhile
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(measured?.heldOut == true, "no held-out curve at \(n) vectors: \(String(describing: search.catalog.info(space: "s")?.calibration.curve))")
        #expect(search.catalog.info(space: "s")?.count == n && !search.catalog.needsCalibration(space: "s"))
    }
}
