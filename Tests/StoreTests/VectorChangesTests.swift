import Core
import Foundation
import Store
import Testing
import TestSupport

/// The store's record of vector changes since a generation (what lets another process's FAISS cache
/// catch up without a rebuild).
@Suite struct VectorChangesTests {
    @Test(arguments: Backend.all) func writesRewritesAndDeletesAfterAGenerationAreReportedAsTheyAreNow(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let ids = try await store.upsertFunctions((0..<6).map {
            FunctionInput(repo: "r", path: "m.py", qualifiedName: "f\($0)", startLine: 1, endLine: 2, signature: "def f\($0)():", body: "    return \($0)\n")
        }).ids
        _ = try await store.createSpace(SpaceInput(name: "s", kind: .custom, dim: 2))
        func v(_ x: Float) -> [Float] { [x, -x] }
        let g1 = try await store.upsertVectors(space: "s", VectorBatch(ids: Array(ids[0..<4]), values: [1, 2, 3, 4].flatMap { v($0) }))
        let empty = try #require(try await store.vectorChanges(space: "s", after: g1, limit: 100))
        #expect(empty.generation == g1 && empty.upserted.ids.isEmpty && empty.deleted.isEmpty)

        // After g1: ids[1] rewritten, ids[4] new, ids[0] and ids[5] deleted (ids[5] had never a vector
        // here, so only ids[0] leaves a tombstone), ids[2] deleted and written again.
        _ = try await store.upsertVectors(space: "s", VectorBatch(ids: [ids[1], ids[4]], values: v(20) + v(50)))
        #expect(try await store.deleteFunction(id: ids[0]))
        #expect(try await store.deleteFunction(id: ids[5]))
        _ = try await store.pruneFunctions(repo: "r", keep: ids.filter { $0 != ids[3] && $0 != ids[0] && $0 != ids[5] })
        let gNow = try #require(try await store.space(named: "s")).generation
        let changes = try #require(try await store.vectorChanges(space: "s", after: g1, limit: 100))
        #expect(changes.generation == gNow)
        #expect(changes.upserted.ids == [ids[1], ids[4]] && changes.upserted.values == v(20) + v(50))
        #expect(changes.deleted == [ids[0], ids[3]])
        // Everything since the start is the whole space as it is now.
        let all = try #require(try await store.vectorChanges(space: "s", after: 0, limit: 100))
        #expect(all.upserted.ids == [ids[1], ids[2], ids[4]] && all.deleted == [ids[0], ids[3]])
        // Too many changes for the limit: nil (the caller rebuilds).
        #expect(try await store.vectorChanges(space: "s", after: g1, limit: 3) == nil)
        await #expect(throws: StoreError.unknownSpace("nope")) { try await store.vectorChanges(space: "nope", after: 0, limit: 1) }
    }
}
