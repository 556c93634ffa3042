import Core
import Foundation
import Search
import Services
import Store
import Testing
import TestSupport

/// A small corpus over a real store of `backend` (`TestStore`), a real FAISS index and the real services.
struct Fixture {
    let dir: URL
    let db: TestStore
    let store: any StoreBackend
    let search: SearchService
    let writer: VectorWriter
    let ids: [Int64]
    static let dim = 8

    /// Functions: repo "a" holds 0–3, repo "b" 4–7; 1 and 5 share 0's body (one duplicate group).
    init(_ label: String, _ backend: Backend) async throws {
        dir = try makeTemporaryDirectory(label)
        db = try TestStore(backend)
        store = db.store
        search = SearchService(store: store, dataDirectory: dir)
        writer = VectorWriter(store: store, search: search)
        let inputs = (0..<8).map { i in
            FunctionInput(repo: i < 4 ? "a" : "b", path: "m\(i).py", qualifiedName: "f\(i)", startLine: 1, endLine: 2,
                          signature: "def f\(i)():", body: [1, 5].contains(i) ? "    return 0\n" : "    return \(i)\n")
        }
        ids = try await store.upsertFunctions(inputs).ids
        _ = try await store.createSpace(SpaceInput(name: "s", kind: .custom, dim: Self.dim, metric: .l2, indexFactory: "Flat"))
    }

    /// Removes the data directory and the store.
    func remove() {
        removeTemporaryDirectory(dir)
        db.remove()
    }

    var vectors: [[Float]] { seededVectors(ids.count, Self.dim, seed: 7) }

    func space() async throws -> SpaceRecord { try #require(try await store.space(named: "s")) }

    /// Exact nearest ids (squared L2, Double) of `query` among `candidates`.
    func bruteForce(_ query: [Float], among candidates: [Int64], k: Int) -> [Int64] {
        let byID = Dictionary(uniqueKeysWithValues: zip(ids, vectors))
        func distance(_ id: Int64) -> Double {
            var sum = 0.0
            for (x, y) in zip(query, byID[id]!) {
                let d = Double(x) - Double(y)
                sum += d * d
            }
            return sum
        }
        let scored: [(id: Int64, distance: Double)] = candidates.map { ($0, distance($0)) }
        return scored.sorted { $0.distance < $1.distance }.prefix(k).map(\.id)
    }
}

@Suite struct VectorWriterTests {
    @Test(arguments: Backend.all) func writesAndDeletesKeepTheLiveIndexCurrentWithoutARebuild(_ backend: Backend) async throws {
        let f = try await Fixture("writer", backend)
        defer { f.remove() }
        let half = f.ids.count / 2
        try await f.writer.upsert(space: "s", VectorBatch(ids: Array(f.ids[..<half]), values: f.vectors[..<half].flatMap { $0 }))
        // The first batch into an empty Flat space creates the live index at the store's generation.
        var space = try await f.space()
        var info = try #require(f.search.catalog.info(space: "s"))
        #expect(info.generation == UInt64(space.generation) && info.count == half)

        try await f.writer.upsert(space: "s", VectorBatch(ids: Array(f.ids[half...]), values: f.vectors[half...].flatMap { $0 }))
        space = try await f.space()
        info = try #require(f.search.catalog.info(space: "s"))
        #expect(info.generation == UInt64(space.generation) && info.count == f.ids.count)

        let victim = f.ids[2]
        #expect(try await f.writer.deleteFunction(id: victim))
        #expect(try await f.writer.deleteFunction(id: victim) == false)
        space = try await f.space()
        info = try #require(f.search.catalog.info(space: "s"))
        #expect(info.generation == UInt64(space.generation), "the index followed the delete instead of waiting for a rebuild")

        let query = f.vectors[2]
        let answer = try await f.search.search(SearchQuery(vectors: query), in: space)
        let expected = f.bruteForce(query, among: f.ids.filter { $0 != victim }, k: 7)
        #expect(answer.results.count == 1 && answer.results[0].hits.map(\.id) == expected)

        #expect(try await f.writer.deleteSpace(named: "s"))
        #expect(f.search.catalog.info(space: "s") == nil)
        #expect(!FileManager.default.fileExists(atPath: f.search.catalog.fileURL(for: "s").path))
        #expect(try await f.writer.deleteSpace(named: "s") == false)
    }

    @Test(arguments: Backend.all) func aStoreOnlyWriterIsCaughtUpBeforeTheNextSearch(_ backend: Backend) async throws {
        let f = try await Fixture("writer-worker", backend)
        defer { f.remove() }
        try await f.writer.upsert(space: "s", VectorBatch(ids: Array(f.ids[..<4]), values: f.vectors[..<4].flatMap { $0 }))
        // A worker process writes the store only (no search service of its own).
        let worker = VectorWriter(store: f.store, search: nil)
        try await worker.upsert(space: "s", VectorBatch(ids: Array(f.ids[4...]), values: f.vectors[4...].flatMap { $0 }))
        let space = try await f.space()
        #expect(f.search.catalog.info(space: "s")?.generation != UInt64(space.generation))
        let answer = try await f.search.search(SearchQuery(vectors: f.vectors[6]), in: space)
        #expect(answer.results[0].hits.map(\.id) == f.bruteForce(f.vectors[6], among: f.ids, k: 8))
        #expect(f.search.catalog.info(space: "s")?.generation == UInt64(space.generation))
    }
}

@Suite struct SearchQueryTests {
    @Test(arguments: Backend.all) func functionQueriesApplyEachFilterLikeABruteForce(_ backend: Backend) async throws {
        let f = try await Fixture("search-query", backend)
        defer { f.remove() }
        try await f.writer.upsert(space: "s", VectorBatch(ids: f.ids, values: f.vectors.flatMap { $0 }))
        let space = try await f.space()
        let q = f.ids[0], v = f.vectors[0]
        let a = Array(f.ids[..<4]), dupes: Set<Int64> = [f.ids[0], f.ids[1], f.ids[5]]
        let cases: [(String, (inout SearchQuery) -> Void, [Int64])] = [
            ("self", { _ in }, f.ids.filter { $0 != q }),
            ("keep self", { $0.excludeSelf = false }, f.ids),
            ("duplicates", { $0.excludeDuplicates = true }, f.ids.filter { !dupes.contains($0) }),
            ("same repo", { $0.excludeSameRepo = true }, f.ids.filter { !a.contains($0) }),
            ("repos a", { $0.repos = ["a"] }, a.filter { $0 != q }),
            ("repos a + duplicates", { $0.repos = ["a"]; $0.excludeDuplicates = true }, a.filter { !dupes.contains($0) }),
        ]
        for (name, configure, candidates) in cases {
            var query = SearchQuery(functionIDs: [q])
            query.k = 8
            configure(&query)
            let answer = try await f.search.search(query, in: space)
            #expect(answer.results.map(\.query) == [q], "\(name)")
            #expect(answer.results[0].hits.map(\.id) == f.bruteForce(v, among: candidates, k: 8), "\(name)")
        }
        // Every filter changes the answer (or the cases above would not tell them apart).
        #expect(Set(cases.map { $0.2 }).count == cases.count)
    }

    @Test(arguments: Backend.all) func badQueriesAreRefusedBeforeAnyWork(_ backend: Backend) async throws {
        let f = try await Fixture("search-bad", backend)
        defer { f.remove() }
        try await f.writer.upsert(space: "s", VectorBatch(ids: f.ids, values: f.vectors.flatMap { $0 }))
        let space = try await f.space()
        var tooMany = SearchQuery(vectors: f.vectors[0]); tooMany.k = 1001
        var dupesOnVectors = SearchQuery(vectors: f.vectors[0]); dupesOnVectors.excludeDuplicates = true
        let cases: [(SearchQuery, Int, String)] = [
            (tooMany, 400, "invalid_k"),
            (SearchQuery(vectors: []), 400, "invalid_query"),
            (SearchQuery(vectors: [1, 2, 3]), 422, "wrong_dimension"),
            (SearchQuery(vectors: [Float](repeating: .nan, count: Fixture.dim)), 400, "non_finite"),
            (dupesOnVectors, 422, "invalid_query"),
            (SearchQuery(functionIDs: []), 400, "invalid_query"),
            (SearchQuery(functionIDs: [9_999]), 422, "unknown_function"),
        ]
        for (query, status, code) in cases {
            do {
                _ = try await f.search.search(query, in: space)
                Issue.record("expected \(code)")
            } catch let e as APIError {
                #expect(e.status == status && e.code == code, "\(e)")
            }
        }
    }
}
