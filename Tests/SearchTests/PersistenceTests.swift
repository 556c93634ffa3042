import Core
import Foundation
import Testing
import TestSupport
@testable import Search

/// Index files: round trips, and damage detected as `corruptIndexFile` (never a crash).
@Suite(.ownThreads) struct PersistenceTests {
    let dim = 32

    func build(_ factory: String, metric: Metric = .cosine, n: Int = 3_000) throws -> (VectorIndex, [Float]) {
        let base = TestData.clustered(n, dim: dim, intrinsic: 8, clusters: 20, seed: 31)
        let index = try VectorIndex(factory: IndexFactory(factory), metric: metric, dim: dim)
        try index.train(base)
        try index.add(ids: (0..<Int64(n)).map { $0 * 2 + 100 }, vectors: base)
        return (index, base)
    }

    @Test(arguments: ["Flat", "HNSW16", "IVF8,Flat", "IVF8,PQ4"])
    func roundTripGivesIdenticalResults(factory: String) throws {
        let (index, base) = try build(factory, metric: factory == "Flat" ? .l2 : .cosine)
        try index.remove(ids: [100, 102, 104])  // HNSW: tombstones must survive the round trip
        let dir = TestData.tempDir()
        let url = dir.appendingPathComponent("space.faissidx")
        try index.write(to: url, generation: 77)
        let header = try VectorIndex.readHeader(at: url)
        #expect(header.generation == 77)
        #expect(header.dim == dim)
        #expect(header.factory.string == factory)
        #expect(header.count == 2_997)
        let (loaded, generation) = try VectorIndex.load(from: url)
        #expect(generation == 77)
        #expect(loaded.count == index.count)
        #expect(loaded.tombstones == index.tombstones)
        #expect(loaded.metric == index.metric)
        let queries = Array(base[0..<(20 * dim)])
        let a = try index.search(queries: queries, k: 10)
        let b = try loaded.search(queries: queries, k: 10)
        #expect(a == b)
        #expect(!b.joined().contains { [100, 102, 104].contains($0.id) })
        // The loaded index keeps working: upsert + remove.
        try loaded.add(ids: [100], vectors: Array(base[0..<dim]))
        #expect(loaded.contains(100))
        #expect(try loaded.remove(ids: [100]) == 1)
        // No temporary files are left behind.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(files == ["space.faissidx"])
    }

    @Test func damagedFilesAreDetected() throws {
        let (index, _) = try build("HNSW16")
        let dir = TestData.tempDir()
        let url = dir.appendingPathComponent("good.faissidx")
        try index.write(to: url, generation: 5)
        let good = try Data(contentsOf: url)

        func expectCorrupt(_ bytes: Data, _ what: String) {
            let bad = dir.appendingPathComponent("bad.faissidx")
            try? bytes.write(to: bad)
            do {
                _ = try VectorIndex.load(from: bad)
                Issue.record("\(what): load succeeded")
            } catch let e as SearchError {
                guard case .corruptIndexFile = e else { Issue.record("\(what): wrong error \(e)"); return }
                #expect(!e.isBadInput)
            } catch {
                Issue.record("\(what): untyped error \(error)")
            }
        }
        // Flipped bytes at several places: magic, header, payload start, middle, end.
        for offset in [0, 10, 40, good.count / 3, good.count / 2, good.count - 1] {
            var d = good
            d[offset] ^= 0x5A
            expectCorrupt(d, "flip at \(offset)")
        }
        // Truncations, an empty file, trailing garbage, random bytes.
        for length in [0, 5, 11, 200, good.count / 2, good.count - 1] {
            expectCorrupt(good.prefix(length), "truncated to \(length)")
        }
        expectCorrupt(good + Data([1, 2, 3]), "trailing bytes")
        var rng = SeededRandom(seed: 9)
        expectCorrupt(Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }), "random bytes")
        // Missing file and stale generation are told apart.
        #expect(throws: SearchError.missingIndexFile(path: dir.appendingPathComponent("none").path)) {
            try VectorIndex.load(from: dir.appendingPathComponent("none"))
        }
        #expect(throws: SearchError.staleIndexFile(path: url.path, found: 5, expected: 6)) {
            try VectorIndex.load(from: url, expectedGeneration: 6)
        }
        // The intact file still loads.
        #expect(try VectorIndex.load(from: url, expectedGeneration: 5).index.count == 3_000)
    }

    @Test func overwriteIsAtomicAndKeepsOldFileOnFailure() throws {
        let (index, _) = try build("Flat", n: 500)
        let dir = TestData.tempDir()
        let url = dir.appendingPathComponent("s.faissidx")
        try index.write(to: url, generation: 1)
        try index.add(ids: [1], vectors: [Float](repeating: 1, count: dim))
        try index.write(to: url, generation: 2)
        let (loaded, g) = try VectorIndex.load(from: url)
        #expect(g == 2)
        #expect(loaded.count == 501)
        // Writing into a directory that cannot be created fails with an I/O error, file untouched.
        let blocked = url.appendingPathComponent("child.faissidx")  // parent is a file
        #expect(throws: SearchError.self) { try index.write(to: blocked, generation: 3) }
        #expect(try VectorIndex.readHeader(at: url).generation == 2)
    }

    @Test func headerMetricIsSpelledAsEverywhereAndOldFilesStillRead() throws {
        let header = IndexFileHeader(generation: 3, dim: 4, metric: .ip, factory: .flat, count: 0, payloadLength: 0,
                                     payloadChecksum: "0", faissVersion: "x")
        let json = String(decoding: try JSONEncoder().encode(header), as: UTF8.self)
        #expect(json.contains(#""metric":"ip""#))
        #expect(try JSONDecoder().decode(IndexFileHeader.self, from: Data(json.utf8)) == header)
        // Index files written before Metric had one spelling say "inner_product".
        let old = json.replacingOccurrences(of: #""metric":"ip""#, with: #""metric":"inner_product""#)
        #expect(try JSONDecoder().decode(IndexFileHeader.self, from: Data(old.utf8)).metric == .ip)
        let bad = json.replacingOccurrences(of: #""metric":"ip""#, with: #""metric":"dot""#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(IndexFileHeader.self, from: Data(bad.utf8)) }
    }
}
