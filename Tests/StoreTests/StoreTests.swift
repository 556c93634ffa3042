import Core
import Foundation
import TestSupport
import Testing
@testable import Store

/// The package's `migrations/sqlite`, the files the embedded migrations are generated from.
let sqliteMigrationsFolder = PackagePaths.root.appendingPathComponent("migrations/sqlite")

func tempDir() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("swejepa-store-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func fn(_ name: String, repo: String = "r1", path: String = "a.py", body: String = "    return 1\n", line: Int = 1) -> FunctionInput {
    FunctionInput(repo: repo, path: path, qualifiedName: name, startLine: line, endLine: line + 1,
                  signature: "def \(name)():", body: body, properties: ["loc": 2])
}

@Suite struct StoreTests {
    @Test func migrationsAreAppliedOnceAndRecorded() throws {
        let dir = tempDir()
        let files = try FileManager.default.contentsOfDirectory(atPath: sqliteMigrationsFolder.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        let versions = files.map { Int($0.prefix(4))! }
        let first = try SQLiteStore(directory: dir)
        #expect(first.appliedMigrations == versions)
        let second = try SQLiteStore(directory: dir)
        #expect(second.appliedMigrations.isEmpty)
        let db = try SQLiteConnection(path: dir.appendingPathComponent("swejepa.sqlite").path)
        #expect(try db.first("PRAGMA journal_mode") { $0.text(0) } == "wal")
        #expect(try db.all("SELECT version, name FROM schema_migrations ORDER BY version") { "\($0.int(0))_\($0.text(1)).sql" }
                == files.map { String($0.drop { $0 == "0" }) })
    }

    @Test(arguments: Backend.all) func upsertCreatesUpdatesAndKeepsUnchanged(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let a = try await store.upsertFunctions([fn("f"), fn("g", body: "    return 2\n")])
        #expect(a.created == 2 && a.ids.count == 2)
        let space = try await store.createSpace(SpaceInput(name: "s", kind: .bodyMean, dim: 2))
        try await store.upsertVectors(space: "s", VectorBatch(ids: a.ids, values: [1, 2, 3, 4]))
        // Same content: unchanged. Changed body: updated and its vector marked stale.
        let b = try await store.upsertFunctions([fn("f"), fn("g", body: "    return 3\n")])
        #expect(b.ids == a.ids)
        #expect(b.unchanged == 1 && b.updated == 1 && b.created == 0)
        let s = try #require(try await store.space(named: "s"))
        #expect(s.count == 2 && s.stale == 1 && s.id == space.id)
        let g = try #require(try await store.function(id: a.ids[1]))
        #expect(g.body == "    return 3\n")
        #expect(g.bodyHash == FunctionHash.body("    return 3\n"))
    }

    @Test(arguments: Backend.all) func aBadItemLeavesTheStoreAsItWas(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        _ = try await store.upsertFunctions([fn("keep")])
        let before = try await store.tableCounts()
        await #expect(throws: StoreError.duplicateFunction(index: 1, first: 0, key: "r1 a.py x")) {
            try await store.upsertFunctions([fn("x"), fn("x")])
        }
        var broken = fn("y"); broken.endLine = 0
        await #expect(throws: StoreError.self) { try await store.upsertFunctions([fn("z"), broken]) }
        #expect(try await store.tableCounts() == before)
    }

    @Test(arguments: Backend.all) func vectorBatchesAreAtomicAndValidated(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let ids = try await store.upsertFunctions([fn("a"), fn("b")]).ids
        _ = try await store.createSpace(SpaceInput(name: "v", kind: .bodyMean, dim: 3))
        try await store.upsertVectors(space: "v", VectorBatch(ids: [ids[0]], values: [1, 2, 3]))
        let generation = try #require(try await store.space(named: "v")).generation
        let bad: [(VectorBatch, String)] = [
            (VectorBatch(ids: [ids[1], 999_999], values: [1, 2, 3, 4, 5, 6]), "unknown_function"),
            (VectorBatch(ids: [ids[1], ids[1]], values: [1, 2, 3, 4, 5, 6]), "duplicate_ids"),
            (VectorBatch(ids: [ids[1]], values: [1, 2]), "wrong_dimension"),
            (VectorBatch(ids: [ids[1]], values: [1, .nan, 3]), "non_finite"),
            (VectorBatch(ids: [ids[1]], values: [1, .infinity, 3]), "non_finite"),
        ]
        for (b, code) in bad {
            do { try await store.upsertVectors(space: "v", b); Issue.record("accepted a batch that is \(code)") }
            catch let e as StoreError { #expect(e.code == code, "\(e)") }
        }
        await #expect(throws: StoreError.unknownSpace("nope")) {
            try await store.upsertVectors(space: "nope", VectorBatch(ids: [ids[0]], values: [1, 2, 3]))
        }
        let after = try #require(try await store.space(named: "v"))
        #expect(after.count == 1 && after.generation == generation)
        #expect(try await store.vectors(space: "v", ids: nil).values == [1, 2, 3])
    }

    @Test(arguments: Backend.all) func float16AndTokenSpacesRoundTrip(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let ids = try await store.upsertFunctions([fn("a"), fn("b")]).ids
        _ = try await store.createSpace(SpaceInput(name: "h", kind: .sigMean, dim: 2, dtype: .float16))
        _ = try await store.createSpace(SpaceInput(name: "t", kind: .sigTokens, dim: 2))
        try await store.upsertVectors(space: "h", VectorBatch(ids: ids, values: [0.5, 1.0 / 3.0, -2, 65504]))
        let h = try await store.vectors(space: "h", ids: [ids[1], ids[0]])
        #expect(h.ids == [ids[1], ids[0]])
        #expect(h.values == [-2, 65504, 0.5, Float(Float16(1.0 / 3.0))])
        try await store.upsertVectors(space: "t", VectorBatch(ids: ids, rows: [3, 1], values: [1, 2, 3, 4, 5, 6, 7, 8]))
        let t = try await store.vectors(space: "t", ids: nil)
        #expect(t.rows == [3, 1] && t.values == [1, 2, 3, 4, 5, 6, 7, 8])
        // A token count that does not match the values is refused.
        await #expect(throws: StoreError.self) {
            try await store.upsertVectors(space: "t", VectorBatch(ids: [ids[0]], rows: [2], values: [1, 2, 3]))
        }
    }

    @Test(arguments: Backend.all) func deletesCascadeAndMoveTheGeneration(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let ids = try await store.upsertFunctions([fn("a"), fn("b")]).ids
        _ = try await store.createSpace(SpaceInput(name: "v", kind: .bodyMean, dim: 1))
        try await store.upsertVectors(space: "v", VectorBatch(ids: ids, values: [1, 2]))
        let g0 = try #require(try await store.space(named: "v")).generation
        #expect(try await store.deleteFunction(id: ids[0]))
        #expect(try await store.deleteFunction(id: ids[0]) == false)
        let s = try #require(try await store.space(named: "v"))
        #expect(s.count == 1 && s.generation > g0)
        #expect(try await store.deleteSpace(named: "v"))
        #expect(try await store.tableCounts()["vectors"] == 0)
    }

    @Test(arguments: Backend.all) func cursorPagesCoverEveryFunctionOnce(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let items = (0..<25).map { fn("f\($0)", repo: $0 % 2 == 0 ? "even" : "odd", path: "m\($0 % 3).py") }
        let ids = try await store.upsertFunctions(items).ids
        var seen = [Int64](), after: Int64? = nil
        while true {
            let page = try await store.functions(FunctionQuery(limit: 7, after: after))
            seen += page.map(\.id)
            if page.count < 7 { break }
            after = page.last!.id
        }
        #expect(seen == ids)
        let even = try await store.functions(FunctionQuery(repo: "even", limit: 100))
        #expect(even.count == 13 && even.allSatisfy { $0.repo == "even" })
        let text = try await store.functions(FunctionQuery(text: "f1", limit: 100))
        #expect(Set(text.map(\.qualifiedName)) == Set(items.map(\.qualifiedName).filter { $0.contains("f1") }))
    }

    @Test(arguments: Backend.all) func reopeningFindsTheData(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        _ = try await fresh.store.upsertFunctions([fn("persisted")])
        let again = try fresh.open()
        #expect(try await again.functions(FunctionQuery()).map(\.qualifiedName) == ["persisted"])
        #expect(try await again.stats().functions == 1)
    }

    @Test(arguments: Backend.all) func readersSeeConsistentDataWhileAWriterWorks(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for batch in 0..<20 {
                    _ = try await store.upsertFunctions((0..<50).map { fn("w\(batch)_\($0)") })
                }
            }
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<20 {
                        let n = try await store.stats().functions
                        #expect(n % 50 == 0)  // batches are atomic: never a partial batch
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.stats().functions == 1000)
    }
}
