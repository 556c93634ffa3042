import Core
import Foundation
import TestSupport
import Testing
@testable import Store

/// Corpus and analysis operations, the same on every backend: repositories, replacing and pruning
/// a repository's functions, missing vectors, texts, facts and summaries, index settings, probe
/// results and neighbour lists.
@Suite struct CorpusAndAnalysisStoreTests {
    @Test(arguments: Backend.all) func repositoriesAreReplacedPrunedAndDescribed(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let first = try await store.replaceRepository("demo", path: "/src/demo", functions: [fn("a", repo: "demo"), fn("b", repo: "demo"), fn("c", repo: "demo")])
        #expect(first == ReplaceSummary(ids: first.ids, created: 3, updated: 0, unchanged: 0, removed: 0))
        _ = try await store.upsertFunctions([fn("x", repo: "other")])
        // b changes, c vanishes, d is new; the path stays when not given.
        let second = try await store.replaceRepository("demo", path: nil, functions: [fn("a", repo: "demo"), fn("b", repo: "demo", body: "    return 9\n"), fn("d", repo: "demo")])
        #expect(second.created == 1 && second.updated == 1 && second.unchanged == 1 && second.removed == 1)
        #expect(Array(second.ids.prefix(2)) == Array(first.ids.prefix(2)) && second.ids[2] > first.ids[2])
        await #expect(throws: StoreError.inconsistentFunction(index: 0, reason: "repo must be 'demo' (the repository being replaced), got 'other'")) {
            try await store.replaceRepository("demo", path: nil, functions: [fn("z", repo: "other")])
        }
        let repos = try await store.repositories()
        #expect(repos.map(\.name) == ["demo", "other"] && repos.map(\.functions) == [3, 1] && repos[0].path == "/src/demo")
        try await store.setRepositoryPath(name: "fresh", path: "/src/fresh")
        #expect(try await store.repositories().first { $0.name == "fresh" }?.path == "/src/fresh")
        #expect(try await store.pruneFunctions(repo: "demo", keep: [second.ids[0]]) == 2)
        #expect(try await store.pruneFunctions(repo: "nope", keep: []) == 0)
        #expect(try await store.functions(FunctionQuery(repo: "demo")).map(\.qualifiedName) == ["a"])
    }

    @Test(arguments: Backend.all) func textsFactsSummariesAndMissingVectors(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        var a = fn("a", body: "    return 1\n"); a.properties = ["loc": 2, "name": "ä\u{0}"]
        let ids = try await store.upsertFunctions([a, fn("b", repo: "r2", body: "    return 1\n"), fn("c", body: "    return 3\n")]).ids
        let texts = try await store.functionTexts(ids: [ids[2], 999, ids[0]])
        #expect(texts.map(\.id) == [ids[2], ids[0]] && texts[1].signature == "def a():" && texts[1].body == "    return 1\n")
        let facts = try await store.functionFacts(ids: [ids[0], ids[1], ids[0], 999])
        #expect(facts.count == 2 && facts[ids[0]]?.repo == "r1" && facts[ids[1]]?.repo == "r2")
        #expect(facts[ids[0]]?.bodyHash == facts[ids[1]]?.bodyHash && facts[ids[0]]?.properties == ["loc": 2, "name": "ä\u{0}"])
        let summaries = try await store.functionSummaries(ids: ids + [ids[0], 999])
        #expect(summaries.count == 3 && summaries[ids[2]]?.qualifiedName == "c" && summaries[ids[1]]?.repo == "r2")
        // Stored JSON comes back as it went in.
        #expect(try await store.function(id: ids[0])?.properties == ["loc": 2, "name": "ä\u{0}"])

        _ = try await store.createSpace(SpaceInput(name: "s", kind: .bodyMean, dim: 1))
        _ = try await store.createSpace(SpaceInput(name: "t", kind: .sigMean, dim: 1))
        try await store.upsertVectors(space: "s", VectorBatch(ids: ids, values: [1, 2, 3]))
        try await store.upsertVectors(space: "t", VectorBatch(ids: [ids[0]], values: [1]))
        #expect(try await store.functionsMissingVectors(spaces: ["s"], repo: nil) == [])
        #expect(try await store.functionsMissingVectors(spaces: ["s", "t"], repo: nil) == [ids[1], ids[2]])
        #expect(try await store.functionsMissingVectors(spaces: ["s", "t"], repo: "r2") == [ids[1]])
        #expect(try await store.functionsMissingVectors(spaces: ["s", "new"], repo: nil) == ids)
        // A changed body makes its vectors stale: missing again.
        _ = try await store.upsertFunctions([fn("c", body: "    return 4\n")])
        #expect(try await store.functionsMissingVectors(spaces: ["s"], repo: nil) == [ids[2]])
        #expect(try await store.space(named: "s")?.stale == 1)

        try await store.setIndexFactory(space: "s", factory: "HNSW32", metric: .ip)
        let s = try #require(try await store.space(named: "s"))
        #expect(s.indexFactory == "HNSW32" && s.metric == .ip)
        await #expect(throws: StoreError.unknownSpace("nope")) { try await store.setIndexFactory(space: "nope", factory: "Flat", metric: .l2) }
        #expect(try await store.spaces().map(\.name) == ["s", "t"])
    }

    @Test(arguments: Backend.all) func probeResultsAndNeighbourLists(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let ids = try await store.upsertFunctions((0..<4).map { fn("f\($0)") }).ids
        _ = try await store.createSpace(SpaceInput(name: "s", kind: .bodyMean, dim: 1))
        let job = try await store.createJob(type: "probe", params: [:], maxAttempts: 1)
        let input = ProbeRecordInput(jobID: job.id, space: "s", target: "loc", task: "regression", metric: "r2",
                                     mean: 0.1 + 0.2, std: 1e-5, groupBy: "repo", result: ["folds": [0.5, 0.25], "n": 4])
        let saved = try await store.addProbeResult(input)
        #expect(saved.mean == 0.1 + 0.2 && saved.std == 1e-5 && saved.jobID == job.id && saved.result == input.result)
        var other = input; other.target = "depth"; other.jobID = nil
        let second = try await store.addProbeResult(other)
        #expect(try await store.probeResults(ProbeQuery()).map(\.id) == [second.id, saved.id])
        #expect(try await store.probeResults(ProbeQuery(space: "s", target: "loc")) == [saved])
        #expect(try await store.probeResults(ProbeQuery(jobID: job.id, limit: 1)).map(\.id) == [saved.id])
        var bad = input; bad.mean = .nan
        await #expect(throws: StoreError.invalidProbeResult(target: "loc")) { try await store.addProbeResult(bad) }

        let run = NeighbourRun(space: "s", jobID: job.id, k: 2, exclude: "repo", functions: 2, createdAt: 1_700_000_000.25)
        let rows = [NeighbourRow(functionID: ids[0], rank: 0, neighbourID: ids[1], score: 0.1 + 0.2),
                    NeighbourRow(functionID: ids[0], rank: 1, neighbourID: ids[2], score: -1e-300),
                    NeighbourRow(functionID: ids[3], rank: 0, neighbourID: ids[0], score: 1)]
        try await store.replaceNeighbours(run: run, rows)
        #expect(try await store.neighbourRun(space: "s") == run)
        #expect(try await store.neighbours(space: "s", functionID: ids[0]) == Array(rows.prefix(2)))
        #expect(try await store.neighbours(space: "s", after: nil, limit: 1) == Array(rows.prefix(2)))
        #expect(try await store.neighbours(space: "s", after: ids[0], limit: 5) == [rows[2]])
        // A bad batch changes nothing.
        await #expect(throws: StoreError.invalidNeighbour(functionID: ids[1], rank: -1, score: 0)) {
            try await store.replaceNeighbours(run: run, [NeighbourRow(functionID: ids[1], rank: -1, neighbourID: ids[0], score: 0)])
        }
        do {
            try await store.replaceNeighbours(run: run, [NeighbourRow(functionID: 999_999, rank: 0, neighbourID: ids[0], score: 0)])
            Issue.record("a neighbour row naming a missing function was stored")
        } catch let e as StoreError {
            #expect(e.code == "invalid_neighbours" && e.category == .conflict, "\(e)")
        }
        do {
            try await store.replaceNeighbours(run: run, [rows[0], rows[0]])
            Issue.record("a repeated (function, rank) was stored")
        } catch let e as StoreError {
            #expect(e.code == "invalid_neighbours", "\(e)")
        }
        await #expect(throws: StoreError.unknownSpace("nope")) {
            try await store.replaceNeighbours(run: NeighbourRun(space: "nope", jobID: nil, k: 1, exclude: "self", functions: 0), [])
        }
        #expect(try await store.neighbours(space: "s", after: nil, limit: 10) == rows)
        // Neighbour lists go with their space; probe results outlive it.
        #expect(try await store.deleteSpace(named: "s"))
        #expect(try await store.neighbourRun(space: "s") == nil)
        #expect(try await store.probeResults(ProbeQuery()).count == 2)
    }
}
