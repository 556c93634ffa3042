import Core
import Foundation
import TestSupport
import Testing
@testable import Store

/// The store's threads: one writer thread used serially, reader threads side by side, neither on
/// Swift's cooperative pool.
@Suite struct StoreThreadsTests {
    /// How many bodies ran at once, at most.
    final class Overlap: Sendable {
        private let state = Mutex((running: 0, peak: 0))
        func enter() { state.withLock { $0.running += 1; $0.peak = max($0.peak, $0.running) } }
        func leave() { state.withLock { $0.running -= 1 } }
        var peak: Int { state.withLock { $0.peak } }
    }

    @Test func writesRunOnOneWriterThreadInOrderAndReadsOnReaderThreads() async throws {
        let store = try SQLiteStore(directory: tempDir())
        #expect(try await store.write { _ in ThreadPool.currentPoolName } == "swejepa.store.writer")
        #expect(try await store.read { _ in ThreadPool.currentPoolName } == "swejepa.store.readers")
        // Writes submitted from many tasks never overlap (one connection, used serially).
        let overlap = Overlap()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await store.write { _ in
                        overlap.enter()
                        usleep(500)
                        overlap.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(overlap.peak == 1)
    }

    /// The backend's internal read: a body run the way every store read runs.
    static func read<T: Sendable>(_ store: any StoreBackend, _ body: @escaping @Sendable () -> T) async throws -> T {
        if let sqlite = store as? SQLiteStore { return try await sqlite.read { _ in body() } }
        return try await #require(store as? PostgresStore).read { _ in body() }
    }

    @Test(arguments: Backend.all) func readsRunSideBySide(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        // One read waits for another: it only ends if two readers run at the same time.
        let met = DispatchSemaphore(value: 0)
        async let waited = Self.read(store) { met.wait(timeout: .now() + 20) == .success }
        _ = try await Self.read(store) { met.signal() }
        #expect(try await waited)
    }
}
