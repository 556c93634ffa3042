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

    /// Jobs record their order, and how many ran at once, on a `Mutex`.
    final class Log: Sendable {
        private let state = Mutex((order: [Int](), running: 0, peak: 0, pools: Set<String>()))
        func enter(_ i: Int) {
            state.withLock { s in
                s.order.append(i)
                s.running += 1
                s.peak = max(s.peak, s.running)
                s.pools.insert(ThreadPool.currentPoolName ?? "none")
            }
        }
        func leave() { state.withLock { $0.running -= 1 } }
        var order: [Int] { state.withLock { $0.order } }
        var peak: Int { state.withLock { $0.peak } }
        var pools: Set<String> { state.withLock { $0.pools } }
    }

    @Test func aSerialPoolRunsJobsOneAtATimeInSubmissionOrder() async throws {
        let pool = ThreadPool.serial(name: "test.serial")
        #expect(pool.threads == 1)
        let log = Log()
        for i in 0..<300 {
            pool.submit {
                log.enter(i)
                if i % 50 == 0 { usleep(1_000) }  // a slow job must not let the next one overtake it
                log.leave()
            }
        }
        try await pool.run { log.enter(300); log.leave() }
        #expect(log.order == Array(0...300))
        #expect(log.peak == 1)
        #expect(log.pools == ["test.serial"])
    }

    @Test func lanesAreSerialEachButRunSideBySideOnOnePool() async throws {
        let pool = ThreadPool(name: "test.lanes", threads: 3)
        let a = ThreadPool.Lane(on: pool), b = ThreadPool.Lane(on: pool)
        let logA = Log(), logB = Log()
        for i in 0..<200 {
            a.submit { logA.enter(i); if i % 40 == 0 { usleep(500) }; logA.leave() }
            b.submit { logB.enter(i); logB.leave() }
        }
        try await a.run { logA.enter(200); logA.leave() }
        try await b.run { logB.enter(200); logB.leave() }
        #expect(logA.order == Array(0...200) && logA.peak == 1)
        #expect(logB.order == Array(0...200) && logB.peak == 1)
        #expect(logA.pools == ["test.lanes"] && logB.pools == ["test.lanes"])
        // Lane a's job waits for lane b's: it only ends if the two lanes run at the same time.
        let met = DispatchSemaphore(value: 0)
        async let waited = a.run { met.wait(timeout: .now() + 20) == .success }
        _ = try await b.run { met.signal() }
        #expect(try await waited)
    }

    @Test func busyAndQueuedCountJobs() async throws {
        let pool = ThreadPool(name: "test.busy", threads: 2)
        #expect(pool.busy == 0 && pool.queued == 0)
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        for _ in 0..<3 {
            pool.submit { started.signal(); release.wait() }
        }
        started.wait()
        started.wait()  // two run, the third waits for a thread
        #expect(pool.busy == 2)
        #expect(pool.queued == 1)
        for _ in 0..<3 { release.signal() }
        started.wait()
        let deadline = Date().addingTimeInterval(20)
        while pool.busy > 0 && Date() < deadline { usleep(1_000) }  // a thread counts itself free after its job
        #expect(pool.busy == 0 && pool.queued == 0)
    }

    @Test func workNeverRunsOnACooperativeThread() async throws {
        let pool = ThreadPool(name: "test.off-cooperative", threads: 2)
        #expect(ThreadPool.currentPoolName == nil)  // the test body: a cooperative thread
        let names = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<8 { group.addTask { try await pool.run { ThreadPool.currentPoolName } } }
            return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
        }
        #expect(names == ["test.off-cooperative"])
        let lane = ThreadPool.Lane(on: pool)
        #expect(try await lane.run { ThreadPool.currentPoolName } == "test.off-cooperative")
    }

    final class Payload: Sendable {}

    /// Issue 12: a job that ran was kept (with what its closure captured) in the pool's queue until
    /// 1,024 had run, so a store's writer thread held the last thousand requests' vectors.
    @Test func aJobThatRanIsNotKeptAlive() async throws {
        let pool = ThreadPool(name: "test.release", threads: 1)
        weak var released: Payload?
        do {
            let payload = Payload()
            released = payload
            try await pool.run { _ = payload }
        }
        try await pool.run {}  // the one thread has finished the first job and taken the next
        #expect(released == nil)
    }
}
