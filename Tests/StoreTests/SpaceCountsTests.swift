import Core
import Foundation
import Store
import Testing
import TestSupport

/// A space's `count` and `stale` are columns kept by the writers and triggers (migration 0007 /
/// postgres 0004), not counted on every read: a seeded random mix of every write that changes them
/// (upserts over new and existing rows, re-embedding stale rows, changed bodies, function deletes,
/// repository prunes, new functions) must leave them equal to a model kept by the test and to the
/// rows a layout read finds; and no vector may outlive its function or space (postgres 0006 deletes
/// them by trigger).
@Suite struct SpaceCountsTests {
    struct Model {
        /// space → function → stale
        var vectors: [String: [Int64: Bool]] = ["a": [:], "b": [:]]
        var functions: [Int64: (repo: String, name: String)] = [:]
    }

    static func input(repo: String, name: String, body: String) -> FunctionInput {
        FunctionInput(repo: repo, path: "m.py", qualifiedName: name, startLine: 1, endLine: 2, signature: "def \(name)():", body: body)
    }

    @Test(arguments: Backend.all) func countsFollowEveryKindOfWrite(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        var model = Model()
        var rng = SplitMix64(seed: 17)
        var next = 0
        func addFunctions(_ n: Int) async throws {
            let inputs = (0..<n).map { i -> FunctionInput in
                let name = "f\(next + i)"
                return Self.input(repo: "r\((next + i) % 3)", name: name, body: "    return \(next + i)\n")
            }
            let ids = try await store.upsertFunctions(inputs).ids
            for (id, f) in zip(ids, inputs) { model.functions[id] = (f.repo, f.qualifiedName) }
            next += n
        }
        try await addFunctions(30)
        for s in ["a", "b"] { _ = try await store.createSpace(SpaceInput(name: s, kind: .custom, dim: 2)) }

        func check(_ step: Int, _ what: String) async throws {
            for s in ["a", "b"] {
                let record = try #require(try await store.space(named: s))
                let expected = model.vectors[s]!
                #expect(record.count == expected.count && record.stale == expected.values.filter { $0 }.count,
                        "step \(step) (\(what)), space \(s): count \(record.count)/\(expected.count), stale \(record.stale)/\(expected.values.filter { $0 }.count)")
                #expect(try await store.vectorLayout(space: s, ids: nil).ids.count == record.count)
            }
        }

        var staleSeen = 0, staleCleared = 0
        for step in 0..<80 {
            let ids = model.functions.keys.sorted()
            let what: String
            switch rng.next() % 6 {
            case 0, 1:  // upsert a random subset: new rows, rewritten rows, re-embedded stale rows
                let s = rng.next() % 2 == 0 ? "a" : "b"
                let chosen = Array(Set((0..<Int(1 + rng.next() % 8)).map { _ in ids[Int(rng.next() % UInt64(ids.count))] })).sorted()
                try await store.upsertVectors(space: s, VectorBatch(ids: chosen, values: chosen.flatMap { [Float($0), 1] }))
                staleCleared += chosen.filter { model.vectors[s]![$0] == true }.count
                for id in chosen { model.vectors[s]![id] = false }
                what = "upsert \(chosen.count) into \(s)"
            case 2:  // a changed body makes the function's vectors stale in every space
                let id = ids[Int(rng.next() % UInt64(ids.count))]
                let f = model.functions[id]!
                let out = try await store.upsertFunctions([Self.input(repo: f.repo, name: f.name, body: "    return \(step) + 1000\n")])
                #expect(out.ids == [id])
                for s in ["a", "b"] where model.vectors[s]![id] != nil { model.vectors[s]![id] = true; staleSeen += 1 }
                what = "change body of \(id)"
            case 3:  // delete a function: its vectors go (cascade)
                let id = ids[Int(rng.next() % UInt64(ids.count))]
                #expect(try await store.deleteFunction(id: id))
                model.functions[id] = nil
                for s in ["a", "b"] { model.vectors[s]![id] = nil }
                what = "delete \(id)"
            case 4:  // prune a repository to a random half
                let repo = "r\(rng.next() % 3)"
                let inRepo = ids.filter { model.functions[$0]!.repo == repo }
                let keep = inRepo.filter { _ in rng.next() % 2 == 0 }
                _ = try await store.pruneFunctions(repo: repo, keep: keep)
                for id in inRepo where !keep.contains(id) {
                    model.functions[id] = nil
                    for s in ["a", "b"] { model.vectors[s]![id] = nil }
                }
                what = "prune \(repo) to \(keep.count) of \(inRepo.count)"
            default:
                try await addFunctions(4)
                what = "add 4 functions"
            }
            if model.functions.count < 8 { try await addFunctions(10) }
            try await check(step, what)
        }
        // The mix did go through every transition (stale marked, stale cleared by a new vector).
        #expect(staleSeen > 3 && staleCleared > 0, "stale marked \(staleSeen)×, cleared \(staleCleared)×")
        // Deleting one space leaves the other's counts alone.
        #expect(try await store.deleteSpace(named: "a"))
        let b = try #require(try await store.space(named: "b"))
        #expect(b.count == model.vectors["b"]!.count && b.stale == model.vectors["b"]!.values.filter { $0 }.count)
        #expect(model.vectors["b"]!.count > 0)
        // No vector outlived its space or function (PostgreSQL: triggers, not foreign keys, delete them).
        #expect(try await store.stats().vectors == model.vectors["b"]!.count)
    }
}
