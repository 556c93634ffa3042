import Core
import Foundation
import Testing

/// `ThreadPool`: every job runs once, never more than `threads` at a time, off the caller's thread
/// pools, with results and errors handed back.
@Suite struct ThreadPoolTests {
    final class Counter: @unchecked Sendable {
        let lock = NSLock()
        var running = 0, peak = 0, done: [Int] = [], threadNames = Set<String>()
        func enter() { lock.withLock { running += 1; peak = max(peak, running); threadNames.insert(ThreadPool.currentPoolName ?? "none") } }
        func leave(_ i: Int) { lock.withLock { running -= 1; done.append(i) } }
    }

    @Test func runsEveryJobOnceAtMostThreadsAtATime() async throws {
        let pool = ThreadPool(name: "test.pool", threads: 3)
        let counter = Counter()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<40 {
                group.addTask {
                    try await pool.run {
                        counter.enter()
                        usleep(2_000)  // overlap, so the peak can reach the limit (not a timing assertion)
                        counter.leave(i)
                        return i * i
                    }
                }
            }
            var results = [Int]()
            for try await r in group { results.append(r) }
            #expect(results.sorted() == (0..<40).map { $0 * $0 })
        }
        #expect(counter.done.sorted() == Array(0..<40))
        #expect(counter.peak <= 3 && counter.peak >= 1)
        #expect(counter.threadNames == ["test.pool"])
    }

    struct Failure: Error, Equatable { let code: Int }

    @Test func errorsReachTheCaller() async throws {
        let pool = ThreadPool(name: "test.errors", threads: 1)
        await #expect(throws: Failure(code: 7)) { try await pool.run { throw Failure(code: 7) } }
        #expect(try await pool.run { 42 } == 42)  // the thread survives a throwing job
    }

    @Test func aTaskExecutorPreferenceRunsTheBodyOnThePool() async throws {
        let pool = ThreadPool(name: "test.executor", threads: 1)
        /// A synchronous function, as a test body is: reads the thread it runs on.
        @Sendable func threadName() -> String { ThreadPool.currentPoolName ?? "none" }
        let name = await withTaskExecutorPreference(pool) { threadName() }
        #expect(name == "test.executor")
        #expect(ThreadPool.currentPoolName == nil)
    }
}
