import Core
import Foundation
import Store
import Testing
import TestSupport

/// The SQLite upsert binds each row in place through one prepared statement and finds an unknown
/// function by its row's failing foreign key: a large batch mixing inserts and replacements must
/// store exactly its values, and one unknown id anywhere in it must change nothing and be named
/// with its index (the first unknown one in batch order).
@Suite struct VectorUpsertTests {
    @Test(arguments: Backend.all) func largeMixedBatchesStoreTheirValuesOrNothing(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let ids = try await store.upsertFunctions((0..<600).map { fn("f\($0)", line: $0 + 1) }).ids
        for dtype in [VectorDType.float32, .float16] {
            let name = "u.\(dtype.rawValue)"
            _ = try await store.createSpace(SpaceInput(name: name, kind: .bodyMean, dim: 5, dtype: dtype))
            let first = Array(ids[..<300])
            try await store.upsertVectors(space: name, VectorBatch(ids: first, values: first.flatMap { id in (0..<5).map { Float(id) + Float($0) / 4 } }))
            // Replaces 300 rows (reversed order) and adds 300.
            let second = Array(ids.reversed())
            let values = second.flatMap { id in (0..<5).map { -Float(id) - Float($0) / 8 } }
            try await store.upsertVectors(space: name, VectorBatch(ids: second, values: values))
            let stored = dtype == .float16 ? values.map { Float(Float16($0)) } : values
            let space = try #require(try await store.space(named: name))
            #expect(space.count == 600)
            let back = try await store.vectors(space: name, ids: second)
            #expect(back.ids == second && back.values == stored)
            // An unknown id in the middle, then another later: the first is named, nothing changes.
            var bad = second
            bad[417] = 987_654_321
            bad[500] = 987_654_322
            do {
                try await store.upsertVectors(space: name, VectorBatch(ids: bad, values: values.map { $0 + 1 }))
                Issue.record("accepted an unknown function id")
            } catch let e as StoreError {
                #expect(e == .unknownFunction(index: 417, id: 987_654_321), "\(e)")
            }
            let after = try #require(try await store.space(named: name))
            #expect(after.count == 600 && after.generation == space.generation)
            #expect(try await store.vectors(space: name, ids: second).values == stored)
        }
    }
}
