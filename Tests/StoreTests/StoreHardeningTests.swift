import Core
import Foundation
import TestSupport
import Testing
@testable import Store

/// Issue 12: text with NUL is stored whole, storage faults carry a category (507 / 503, not
/// SQLite's text), the durability mode reaches SQLite, a search scope shares one exclusion set per
/// repository and duplicate group, and a space's layout reads without its values.
@Suite struct StoreHardeningTests {
    @Test func textWithNULRoundTripsAndStaysDistinct() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try SQLiteConnection(path: dir.appendingPathComponent("t.sqlite").path)
        try db.execute("CREATE TABLE t(name TEXT UNIQUE)")
        try db.run("INSERT INTO t VALUES (?)", [.text("a\u{0}x")])
        try db.run("INSERT INTO t VALUES (?)", [.text("a\u{0}y")])  // was one row "a": a UNIQUE clash
        let names = try db.all("SELECT name FROM t ORDER BY name", []) { $0.text(0) }
        #expect(names == ["a\u{0}x", "a\u{0}y"])
        #expect(try db.first("SELECT length(CAST(name AS BLOB)) FROM t WHERE name = ?", [.text("a\u{0}y")]) { $0.int(0) } == 3)
    }

    @Test(arguments: Backend.all) func identifiersWithNULAreRefusedAndBodiesKeepIt(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        for bad in [fn("f", repo: "a\u{0}x"), fn("f", path: "a\u{0}.py"), fn("f\u{0}g")] {
            await #expect(throws: StoreError.self) { try await store.upsertFunctions([bad]) }
        }
        #expect(try await store.stats().functions == 0)
        var f = fn("g", body: "    return '\u{0}'\n")
        f.signature = "def g(x='\u{0}'):"
        let id = try await store.upsertFunctions([f]).ids[0]
        let back = try #require(try await store.function(id: id))
        #expect(back.body == f.body && back.signature == f.signature)
    }

    @Test func storageFaultsAreCategorisedWithoutSQLiteText() {
        let full = APIError(SQLiteError(code: 13, message: "database or disk is full"))
        #expect(full.status == 507 && full.code == "storage_full" && !full.message.contains("SQLite"))
        let busy = APIError(SQLiteError(code: 5, message: "database is locked"))
        #expect(busy.status == 503 && busy.code == "store_unavailable" && !busy.message.contains("locked"))
        let other = APIError(SQLiteError(code: 11, message: "database disk image is malformed"))
        #expect(other.status == 500 && other.code == "internal" && !other.message.contains("malformed"))
    }

    @Test func aFullDiskAndABusyStoreSurfaceAsTheirCategories() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(directory: dir)
        _ = try await store.upsertFunctions([fn("a")])
        // The writer may not grow the file: the next sizeable write finds the "disk" full.
        try await store.write { db in
            let pages = try db.first("PRAGMA page_count", []) { $0.int(0) }!
            try db.execute("PRAGMA max_page_count = \(pages)")
        }
        let big = (0..<200).map { fn("f\($0)", body: String(repeating: "x", count: 4_000)) }
        do {
            _ = try await store.upsertFunctions(big)
            Issue.record("a write past max_page_count succeeded")
        } catch let e as SQLiteError {
            #expect(e.category == .storageFull && e.code == "storage_full", "\(e)")
        }
        #expect(try await store.stats().functions == 1)
        try await store.write { db in try db.execute("PRAGMA max_page_count = 1073741823") }

        // Another connection holds the write lock past the writer's (shortened) busy timeout.
        try await store.write { db in try db.execute("PRAGMA busy_timeout = 100") }
        let other = try SQLiteConnection(path: store.path)
        try other.execute("BEGIN IMMEDIATE")
        do {
            _ = try await store.upsertFunctions([fn("b")])
            Issue.record("a write under another writer's lock succeeded")
        } catch let e as SQLiteError {
            #expect(e.category == .unavailable && e.code == "store_unavailable", "\(e)")
        }
        try other.execute("ROLLBACK")
        _ = try await store.upsertFunctions([fn("b")])
        #expect(try await store.stats().functions == 2)
    }

    @Test func durabilityModeSetsSynchronous() async throws {
        for (mode, expected) in [(SQLiteStore.Durability.normal, Int64(1)), (.full, 2)] {
            let dir = tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let store = try SQLiteStore(directory: dir, durability: mode)
            #expect(try await store.write { db in try db.first("PRAGMA synchronous", []) { $0.int(0) } } == expected, "\(mode)")
        }
    }

    @Test(arguments: Backend.all) func searchScopeSharesOneSetPerRepositoryAndGroup(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        // 300 functions in one repository, in groups of 3 with the same body; 20 in another.
        let items = (0..<300).map { fn("f\($0)", body: "    return \($0 / 3)\n") } + (0..<20).map { fn("g\($0)", repo: "r2", body: "    pass\n") }
        let ids = try await store.upsertFunctions(items).ids
        let space = try await store.createSpace(SpaceInput(name: "s", kind: .custom, dim: 2))
        _ = try await store.upsertVectors(space: "s", VectorBatch(ids: ids, values: ids.flatMap { [Float($0), 1] }))
        let queries = Array(ids[0..<300])
        let scope = try await store.searchScope(SearchScopeRequest(space: space, queryIDs: queries, excludeSelf: true,
                                                                    excludeDuplicates: true, excludeSameRepo: true))
        let ex = try #require(scope.excludePerQuery)
        #expect(ex.queryCount == 300)
        // One repository set (300 ids), 100 group sets (3 ids), 300 own ids: linear, not 300 × 300.
        #expect(ex.sets.reduce(0) { $0 + $1.count } == 300 + 100 * 3 + 300)
        let repo1 = Set(ids[0..<300])
        for q in [0, 1, 150, 299] { #expect(Set(ex.excluded(byQuery: q)) == repo1) }
        let onlySelfAndGroup = try await store.searchScope(SearchScopeRequest(space: space, queryIDs: [ids[4]], excludeDuplicates: true))
        #expect(onlySelfAndGroup.excludePerQuery?.excluded(byQuery: 0) == [ids[3], ids[4], ids[5]])
    }

    @Test(arguments: Backend.all) func vectorLayoutListsIdsRowsAndPagesWithoutValues(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let ids = try await store.upsertFunctions((0..<5).map { fn("f\($0)") }).ids
        _ = try await store.createSpace(SpaceInput(name: "t", kind: .sigTokens, dim: 2))
        let rows = [3, 1, 4, 1, 5]
        _ = try await store.upsertVectors(space: "t", VectorBatch(ids: ids, rows: rows, values: (0..<(14 * 2)).map(Float.init)))
        let layout = try await store.vectorLayout(space: "t", ids: nil)
        #expect(layout.ids == ids && layout.rows == rows && layout.totalRows == 14)
        #expect(layout.pages(maxRows: 5) == [0..<2, 2..<4, 4..<5])
        #expect(layout.pages(maxRows: 1) == [0..<1, 1..<2, 2..<3, 3..<4, 4..<5])
        let some = try await store.vectorLayout(space: "t", ids: [ids[3], ids[0]])
        #expect(some.ids == [ids[3], ids[0]] && some.rows == [1, 3])
        await #expect(throws: StoreError.unknownVectors(space: "t", ids: [999])) { try await store.vectorLayout(space: "t", ids: [999]) }
    }
}
