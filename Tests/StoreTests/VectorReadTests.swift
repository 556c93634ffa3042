import Core
import Foundation
import Store
import Testing
import TestSupport

/// Reads by id list answer in the list's order and name every id without a vector, whatever the
/// list's order and density: SQLite reads increasing lists by one range scan merged with the list
/// (finishing with per-id lookups when the list is sparse) and other lists id by id.
@Suite struct VectorReadTests {
    @Test(arguments: Backend.all) func idListsOfEveryShapeReadTheSameRows(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let inputs = (0..<300).map { i in
            FunctionInput(repo: "r", path: "m.py", qualifiedName: "f\(i)", startLine: 1, endLine: 2, signature: "def f\(i)():", body: "    return \(i)\n")
        }
        let all = try await store.upsertFunctions(inputs).ids
        _ = try await store.createSpace(SpaceInput(name: "s", kind: .custom, dim: 2))
        let stored = all.enumerated().filter { $0.offset % 3 != 0 }.map(\.element)  // every third function has none
        try await store.upsertVectors(space: "s", VectorBatch(ids: stored, values: stored.flatMap { [Float($0), -Float($0)] }))
        let storedSet = Set(stored)

        let lists: [(String, [Int64])] = [
            ("dense, increasing", stored),
            ("a middle run, increasing", Array(stored[40..<120])),
            ("sparse, increasing (the range passes over many rows)", stride(from: 0, to: stored.count, by: 11).map { stored[$0] }),
            ("decreasing", stored.reversed()),
            ("shuffled", { var rng = SplitMix64(seed: 5); var l = stored; for i in stride(from: l.count - 1, to: 0, by: -1) { l.swapAt(i, Int(rng.next() % UInt64(i + 1))) }; return l }()),
            ("increasing with ids that have no vector", Array(all[10..<90])),
            ("short", [stored[3], stored[1]]),
        ]
        for (name, ids) in lists {
            let missing = ids.filter { !storedSet.contains($0) }
            do {
                let batch = try await store.vectors(space: "s", ids: ids)
                #expect(missing.isEmpty, "\(name): read despite \(missing.count) missing ids")
                #expect(batch.ids == ids, "\(name)")
                #expect(batch.values == ids.flatMap { [Float($0), -Float($0)] }, "\(name)")
                #expect(try await store.vectorLayout(space: "s", ids: ids).ids == ids, "\(name)")
            } catch StoreError.unknownVectors(let space, let named) {
                #expect(space == "s" && named == missing, "\(name): named \(named.count) of \(missing.count)")
            }
        }
    }
}
