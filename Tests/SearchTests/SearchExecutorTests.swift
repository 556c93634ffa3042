import Core
import Foundation
import Testing
@testable import Search

/// SearchExecutor: searches on its own pool (never a cooperative thread), OpenMP threads per job.
@Suite struct SearchExecutorTests {
    @Test func searchesAndWritesRunOnTheExecutorsPool() async throws {
        let executor = SearchExecutor(threads: 2, name: "test.search")
        #expect(try await executor.run { _ in ThreadPool.currentPoolName } == "test.search")
        let catalog = IndexCatalog(directory: TestData.tempDir(), executor: executor)
        try catalog.create(space: "s", dim: 4)
        try await catalog.add(space: "s", ids: [1, 2], vectors: [1, 0, 0, 0, 0, 1, 0, 0])
        #expect(try await catalog.slot("s")!.lane.run { ThreadPool.currentPoolName } == "test.search")
        let hits = try await catalog.search(space: "s", queries: [1, 0, 0, 0], k: 1)
        #expect(hits.first?.first?.id == 1)
        #expect(executor.busy == 0 || executor.busy == 1)  // at most a thread finishing its last job
    }

    @Test func openMPThreadsPerJob() async throws {
        let fixed = SearchExecutor(threads: 1, ompThreadsPerJob: 3)
        #expect(fixed.ompThreads(running: 1) == 3 && fixed.ompThreads(running: 5) == 3)
        #expect(try await fixed.run { $0 } == 3)
        let adaptive = SearchExecutor(threads: 1, ompThreadsPerJob: 0)
        #expect(adaptive.ompThreads(running: 1) == adaptive.cores)  // alone: every core
        #expect(adaptive.ompThreads(running: 1_000) == 1)           // crowded: one each
        #expect(try await adaptive.run { $0 } == adaptive.cores)    // one job on a one-thread pool runs alone
        // Unset, the environment decides (SEARCH_OMP_THREADS, default 1).
        #expect(SearchExecutor(threads: 1).ompThreadsPerJob == SearchExecutor.defaultOmpThreads)
    }
}
