import Synchronization
import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Search

/// IndexCatalog: start-up freshness, rebuilds that swap atomically, writes during rebuilds,
/// concurrent searches while writing.
@Suite struct CatalogTests {
    let dim = 32
    static let data = TestData.clustered(4_000, dim: 32, intrinsic: 8, clusters: 30, seed: 41)

    /// The "store": batches of (ids, vectors) streamed like the lead's loader would.
    /// With a `gate`, the stream stops after `gate.after` batches until the gate opens.
    func source(_ ids: [Int64], _ vectors: [Float], batch: Int = 500, gate: SourceGate? = nil) -> IndexCatalog.VectorSource {
        let dim = self.dim
        return {
            AsyncThrowingStream { c in
                Task {
                    for (n, start) in stride(from: 0, to: ids.count, by: batch).enumerated() {
                        if let gate, n == gate.after { await gate.hold() }
                        let end = min(start + batch, ids.count)
                        c.yield(VectorBatch(ids: Array(ids[start..<end]), values: Array(vectors[(start * dim)..<(end * dim)])))
                    }
                    c.finish()
                }
            }
        }
    }

    var ids: [Int64] { (0..<Int64(4_000)).map { $0 + 1 } }

    @Test func ensureFreshLoadsMatchingFileAndRebuildsOtherwise() async throws {
        let dir = TestData.tempDir()
        let queries = Array(Self.data[0..<(10 * dim)])
        let catalog = IndexCatalog(directory: dir)
        // No file: rebuilt from the source, then saved.
        let first = try await catalog.ensureFresh(space: "a/b", storeGeneration: 3, factory: .hnsw32, dim: dim,
                                                  source: source(ids, Self.data))
        #expect(first == .rebuilt(reason: "no index file", count: 4_000))
        #expect(FileManager.default.fileExists(atPath: catalog.fileURL(for: "a/b").path))
        let before = try await catalog.search(space: "a/b", queries: queries, k: 5)

        // "Restart" at the same generation: loaded, same answers. A half-written temporary file
        // (what kill -9 during a save leaves) is ignored and cleaned up.
        let leftover = dir.appendingPathComponent(".\(catalog.fileURL(for: "a/b").lastPathComponent).tmp-999-1")
        try Data(repeating: 7, count: 1000).write(to: leftover)
        let again = IndexCatalog(directory: dir)
        #expect(try await again.ensureFresh(space: "a/b", storeGeneration: 3, dim: dim, source: source([], []))
            == .loaded(count: 4_000, generation: 3))
        #expect(try await again.search(space: "a/b", queries: queries, k: 5) == before)
        #expect(again.info(space: "a/b")?.factory == .hnsw32)
        #expect(!FileManager.default.fileExists(atPath: leftover.path))

        // The store moved on (e.g. kill -9 after a store write, before the index was saved): rebuild,
        // keeping the file's factory.
        let third = IndexCatalog(directory: dir)
        let stale = try await third.ensureFresh(space: "a/b", storeGeneration: 4, dim: dim,
                                                source: source(Array(ids[0..<1_000]), Array(Self.data[0..<(1_000 * dim)])))
        #expect(stale == .rebuilt(reason: "file generation 3, store at 4", count: 1_000))
        #expect(third.info(space: "a/b")?.factory == .hnsw32)
        #expect(third.info(space: "a/b")?.generation == 4)

        // A corrupted file is detected and rebuilt.
        let url = third.fileURL(for: "a/b")
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: url)
        let fourth = IndexCatalog(directory: dir)
        let fixed = try await fourth.ensureFresh(space: "a/b", storeGeneration: 4, dim: dim, source: source(ids, Self.data))
        guard case let .rebuilt(reason, count) = fixed else { Issue.record("corrupt file was loaded"); return }
        #expect(reason.contains("corrupt"))
        #expect(count == 4_000)
        #expect(try VectorIndex.load(from: url, expectedGeneration: 4).index.count == 4_000)

        // Wanted settings differ from the file's: rebuild with the wanted ones.
        let fifth = IndexCatalog(directory: dir)
        let changed = try await fifth.ensureFresh(space: "a/b", storeGeneration: 4, factory: .flat, metric: .l2, dim: dim,
                                                  source: source(ids, Self.data))
        #expect(changed == .rebuilt(reason: "it is HNSW32, wanted Flat", count: 4_000))
        #expect(fifth.info(space: "a/b")?.metric == .l2)
    }

    @Test func rejectedFactoryKeepsThePreviousIndexServing() async throws {
        let catalog = IndexCatalog(directory: TestData.tempDir())
        try await catalog.rebuild(space: "s", factory: .flat, metric: .cosine, dim: dim, generation: 1,
                                  source: source(ids, Self.data))
        let queries = Array(Self.data[0..<(5 * dim)])
        let before = try await catalog.search(space: "s", queries: queries, k: 5)
        // FAISS rejects PQ7 on 32 dimensions; too few vectors for IVF4096; a malformed string.
        await #expect(throws: SearchError.self) {
            try await catalog.rebuild(space: "s", factory: IndexFactory("IVF4,PQ7"), metric: .cosine, dim: dim,
                                      generation: 2, source: source(ids, Self.data))
        }
        await #expect(throws: SearchError.notEnoughTrainingVectors(needed: 4096, got: 4_000)) {
            try await catalog.rebuild(space: "s", factory: IndexFactory("IVF4096,Flat"), metric: .cosine, dim: dim,
                                      generation: 2, source: source(ids, Self.data))
        }
        #expect(throws: SearchError.self) { try IndexFactory("IVF4,Bogus") }
        #expect(try await catalog.search(space: "s", queries: queries, k: 5) == before)
        #expect(catalog.info(space: "s")?.factory == .flat)
        #expect(catalog.info(space: "s")?.generation == 1)
        #expect(catalog.info(space: "s")?.rebuilding == false)
        // Another factory that works replaces it.
        let info = try await catalog.rebuild(space: "s", factory: IndexFactory("IVF16,Flat"), metric: .cosine, dim: dim,
                                             generation: 2, source: source(ids, Self.data))
        #expect(info.factory.string == "IVF16,Flat")
        #expect(info.count == 4_000)
        // FAISS's default is min(nlist, 16); the served default is the calibrated choice for 0.95.
        #expect(catalog.index(for: "s")?.defaultNprobe == 16)
        #expect(info.defaultNprobe != nil && info.defaultNprobe == info.calibration.choice?.value)
        let exact = try await catalog.search(space: "s", queries: queries, k: 5, params: SearchParams(nprobe: 16))
        #expect(exact.map { $0.map(\.id) } == before.map { $0.map(\.id) })
        // Unknown space / bad k are typed errors.
        await #expect(throws: SearchError.unknownSpace("nope")) { try await catalog.search(space: "nope", queries: queries, k: 5) }
        await #expect(throws: SearchError.kOutOfRange(0)) { try await catalog.search(space: "s", queries: queries, k: 0) }
        await #expect(throws: SearchError.dimensionMismatch(expected: 32, got: 31)) {
            try await catalog.search(space: "s", queries: Array(queries[0..<31]), k: 5)
        }
    }

    @Test func writesDuringARebuildReachTheNewIndex() async throws {
        let catalog = IndexCatalog(directory: TestData.tempDir())
        let half = 2_000
        try await catalog.rebuild(space: "s", factory: .flat, metric: .l2, dim: dim, generation: 1,
                                  source: source(Array(ids[0..<half]), Array(Self.data[0..<(half * dim)])))
        let queries = Array(Self.data[0..<(3 * dim)])
        // Rebuild to HNSW from a snapshot of the first half that stops after two of its ten batches
        // until the test opens the gate; meanwhile add the second half and delete ids 1...100
        // through the catalog. No timing: the rebuild is known to be mid-way while the writes happen.
        let gate = SourceGate(after: 2)
        let rebuild = Task {
            try await catalog.rebuild(space: "s", factory: .hnsw32, metric: .l2, dim: dim, generation: 2,
                                      source: source(Array(ids[0..<half]), Array(Self.data[0..<(half * dim)]),
                                                     batch: 200, gate: gate))
        }
        #expect(await gate.waitUntilHeld())
        #expect(catalog.info(space: "s")?.rebuilding == true)
        await #expect(throws: SearchError.rebuildInProgress("s")) {
            try await catalog.rebuild(space: "s", factory: .flat, metric: .l2, dim: dim, generation: 9, source: source([], []))
        }
        for start in stride(from: half, to: 4_000, by: 500) {
            try await catalog.add(space: "s", ids: Array(ids[start..<(start + 500)]),
                                  vectors: Array(Self.data[(start * dim)..<((start + 500) * dim)]), generation: 3)
            // The old index serves meanwhile and already sees the new vectors.
            let hit = try await catalog.search(space: "s", queries: Array(Self.data[(start * dim)..<((start + 1) * dim)]), k: 1)
            #expect(hit[0].first?.id == ids[start])
        }
        #expect(try await catalog.remove(space: "s", ids: Array(ids[0..<100]), generation: 4) == 100)
        // All of that happened while the rebuild was still waiting on its snapshot.
        #expect(catalog.info(space: "s")?.rebuilding == true && catalog.info(space: "s")?.factory == .flat)
        gate.open()
        let info = try await rebuild.value
        #expect(info.factory == .hnsw32)
        #expect(info.count == 3_900)
        #expect(info.generation == 4)
        // The new index holds exactly what an index fed all writes in order would hold.
        let reference = try VectorIndex(factory: .flat, metric: .l2, dim: dim)
        try reference.add(ids: Array(ids[100...]), vectors: Array(Self.data[(100 * dim)...]))
        let got = try await catalog.search(space: "s", queries: queries, k: 10)
        let want = try reference.search(queries: queries, k: 10)
        #expect(got.map { $0.map(\.id) } == want.map { $0.map(\.id) })
        for id in ids[0..<100] { #expect(catalog.index(for: "s")?.contains(id) == false) }
        #expect(catalog.index(for: "s")?.contains(ids[3_999]) == true)
    }

    @Test func concurrentSearchesWhileAdding() async throws {
        let catalog = IndexCatalog(directory: TestData.tempDir(), executor: SearchExecutor(threads: 4))
        let first = 1_000
        try catalog.create(space: "c", factory: .hnsw32, metric: .cosine, dim: dim)
        try await catalog.add(space: "c", ids: Array(ids[0..<first]), vectors: Array(Self.data[0..<(first * dim)]))
        let data = Self.data, ids = self.ids, dim = self.dim
        let failures = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {  // writer: the rest in small batches, plus churn on a few ids
                for start in stride(from: first, to: 4_000, by: 100) {
                    try await catalog.add(space: "c", ids: Array(ids[start..<(start + 100)]),
                                          vectors: Array(data[(start * dim)..<((start + 100) * dim)]))
                    try await catalog.remove(space: "c", ids: [ids[start]])
                }
            }
            for reader in 0..<8 {
                group.addTask {
                    for round in 0..<40 {
                        // Query with vectors present from the start: each must find itself first.
                        let rows = (0..<4).map { (reader * 97 + round * 13 + $0 * 31) % first }
                        let q = rows.flatMap { data[($0 * dim)..<(($0 + 1) * dim)] }
                        // Mixed efSearch values exercise the shim's ef groups.
                        let hits = try await catalog.search(space: "c", queries: q, k: 10,
                                                            params: SearchParams(efSearch: [nil, 16, 40, 128][(reader + round) % 4]),
                                                            filter: round % 2 == 0 ? .none : SearchFilter(exclude: [ids[first]]))
                        for (r, row) in zip(rows, hits) {
                            let ok = row.first?.id == ids[r] && row.count == 10
                                && zip(row, row.dropFirst()).allSatisfy { $0.score >= $1.score }
                                && Set(row.map(\.id)).count == row.count
                            if !ok { failures.value.add(1, ordering: .relaxed) }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(failures.value.load(ordering: .relaxed) == 0)
        #expect(catalog.info(space: "c")?.count == 4_000 - 30)
    }
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// Holds a vector source after `after` batches until `open()`; `waitUntilHeld` returns once the
/// source is waiting there (bounded by a generous limit, false if it never got there).
final class SourceGate: @unchecked Sendable {
    let after: Int
    private let lock = NSLock()
    private var isHeld = false
    private var isOpen = false
    private var waiter: CheckedContinuation<Void, Never>?

    init(after: Int) { self.after = after }

    func hold() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            isHeld = true
            if isOpen { lock.unlock(); c.resume(); return }
            waiter = c
            lock.unlock()
        }
    }

    func open() {
        lock.lock()
        isOpen = true
        let w = waiter
        waiter = nil
        lock.unlock()
        w?.resume()
    }

    func waitUntilHeld(seconds: Double = 120) async -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if lock.withLock({ isHeld }) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return lock.withLock { isHeld }
    }
}


/// Leftover `.NAME.tmp-PID-*` files: a dead process's go, a live process's stay (they may be a
/// save in flight: deleting one made that save's rename fail, a 500 under `make soak`).
@Test func onlyDeadProcessesTemporaryIndexFilesAreRemoved() throws {
    let dir = TestData.tempDir()
    let catalog = IndexCatalog(directory: dir)
    let url = catalog.fileURL(for: "sp")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let mine = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-1")
    let parent = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getppid())-2")
    let dead = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-2147483646-3")
    for f in [mine, parent, dead] { try Data([1]).write(to: f) }
    catalog.removeTemporaryFiles(for: url)
    #expect(FileManager.default.fileExists(atPath: mine.path) && FileManager.default.fileExists(atPath: parent.path))
    #expect(!FileManager.default.fileExists(atPath: dead.path))
}
