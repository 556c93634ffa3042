import Core
import Foundation
import Search
import Services
import Store
import Testing
import TestSupport

/// Two processes on one database: each holds its own FAISS cache; the other's writes reach it from the
/// store's record of changes, without a rebuild.
@Suite struct CatchUpTests {
    /// What a search service logged.
    final class LogLines: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ s: String) { lines.withLock { $0.append(s) } }
        func count(_ needle: String) -> Int { lines.withLock { $0.filter { $0.contains(needle) }.count } }
    }

    @Test(arguments: Backend.all) func anotherProcessesWritesAndDeletesAreAppliedWithoutARebuild(_ backend: Backend) async throws {
        let f = try await Fixture("catch-up", backend)
        defer { f.remove() }
        // Process B: its own connection to the same database and its own index directory.
        let otherDir = try makeTemporaryDirectory("catch-up-b")
        defer { removeTemporaryDirectory(otherDir) }
        let storeB = try f.db.open()
        let logB = LogLines()
        let searchB = SearchService(store: storeB, dataDirectory: otherDir) { logB.add($0) }

        var current = Dictionary(uniqueKeysWithValues: zip(f.ids, f.vectors))
        try await f.writer.upsert(space: "s", VectorBatch(ids: Array(f.ids[..<5]), values: f.vectors[..<5].flatMap { $0 }))
        var space = try await f.space()
        _ = try await searchB.search(SearchQuery(vectors: f.vectors[0]), in: space)
        #expect(logB.count("rebuilt") == 1, "B builds its index once")

        // A writes three new vectors, rewrites one B already holds, and deletes a function B holds.
        let moved = f.ids[1], victim = f.ids[2]
        current[moved] = seededVectors(1, Fixture.dim, seed: 99)[0]
        try await f.writer.upsert(space: "s", VectorBatch(ids: Array(f.ids[5...]), values: f.vectors[5...].flatMap { $0 }))
        try await f.writer.upsert(space: "s", VectorBatch(ids: [moved], values: current[moved]!))
        #expect(try await f.writer.deleteFunction(id: victim))
        current[victim] = nil

        space = try #require(try await storeB.space(named: "s"))
        #expect(searchB.catalog.info(space: "s")?.generation != UInt64(space.generation))
        for (i, query) in [current[moved]!, f.vectors[6], f.vectors[2]].enumerated() {
            let answer = try await searchB.search(SearchQuery(vectors: query), in: space)
            let expected = bruteForce(query, current, k: 7)
            #expect(answer.results[0].hits.map(\.id) == expected, "query \(i)")
        }
        let info = try #require(searchB.catalog.info(space: "s"))
        #expect(info.generation == UInt64(space.generation) && info.count == current.count)
        #expect(logB.count("rebuilt") == 1, "no second rebuild: \(logB.lines.withLock { $0 })")
        #expect(logB.count("caught up") == 1)
    }

    /// Exact nearest ids (squared L2 in Double).
    func bruteForce(_ q: [Float], _ vectors: [Int64: [Float]], k: Int) -> [Int64] {
        func distance(_ v: [Float]) -> Double {
            var sum = 0.0
            for (x, y) in zip(q, v) {
                let d = Double(x) - Double(y)
                sum += d * d
            }
            return sum
        }
        let scored: [(id: Int64, distance: Double)] = vectors.map { ($0.key, distance($0.value)) }
        return scored.sorted { $0.distance < $1.distance }.prefix(k).map(\.id)
    }
}
