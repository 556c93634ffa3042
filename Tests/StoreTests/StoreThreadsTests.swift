import Core
import Foundation
import Synchronization
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

    @Test func readsRunSideBySide() async throws {
        let store = try SQLiteStore(directory: tempDir())
        // One read waits for another: it only ends if two readers run at the same time.
        let met = DispatchSemaphore(value: 0)
        async let waited = store.read { _ in met.wait(timeout: .now() + 20) == .success }
        _ = try await store.read { _ in met.signal() }
        #expect(try await waited)
    }
}
