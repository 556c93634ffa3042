import Foundation

/// Threads of its own for long blocking work (BLAS-heavy jobs, index builds, CPU-bound tests).
///
/// Dispatch's global pool has one thread per core and every dispatch queue (the store's, URLSession's)
/// draws from it; Swift's cooperative pool is as small and serves every async task. Work that keeps a
/// core busy for seconds or minutes on either starves everything else on a 2-core machine. A
/// `ThreadPool` runs such work on its own threads instead, FIFO, at most `threads` at a time; the
/// kernel shares the cores fairly between them and everyone else. Threads end when the pool does.
///
/// ```swift
/// let pool = ThreadPool(name: "compute", threads: 2)
/// let sum = try await pool.run { (0..<1_000_000).reduce(0, +) }
/// ```
public final class ThreadPool: @unchecked Sendable {
    /// The pool every compute-heavy job step shares: one thread per core.
    public static let compute = ThreadPool(name: "swejepa.compute", threads: ProcessInfo.processInfo.activeProcessorCount)

    /// The queue and its condition, shared with the threads (which must not keep the pool alive).
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        var work: [@Sendable () -> Void] = []
        var head = 0
        var stopped = false
    }

    private let state = State()
    public let threads: Int

    /// The name of the pool whose thread runs the caller, nil off every pool's threads.
    public static var currentPoolName: String? { Thread.current.threadDictionary[poolNameKey] as? String }
    private static let poolNameKey = "swejepa.ThreadPool.name"

    public init(name: String, threads: Int) {
        self.threads = max(1, threads)
        for i in 0..<self.threads {
            let state = self.state
            let thread = Thread {
                Thread.current.threadDictionary[Self.poolNameKey] = name
                Self.serve(state)
            }
            thread.name = "\(name).\(i)"
            thread.stackSize = 8 << 20  // deep recursion in the parser and BLAS frames
            thread.start()
        }
    }

    deinit {
        state.condition.lock()
        state.stopped = true
        state.condition.broadcast()
        state.condition.unlock()
    }

    /// Queues `work`; it runs on one of the pool's threads.
    public func submit(_ work: @escaping @Sendable () -> Void) {
        state.condition.lock()
        state.work.append(work)
        state.condition.signal()
        state.condition.unlock()
    }

    /// Runs `body` on one of the pool's threads and returns what it returns (or throws).
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in
            submit { cont.resume(with: Result { try body() }) }
        }
    }

    private static func serve(_ state: State) {
        while true {
            state.condition.lock()
            while state.head == state.work.count && !state.stopped { state.condition.wait() }
            if state.head == state.work.count {  // stopped and drained
                state.condition.unlock()
                return
            }
            let next = state.work[state.head]
            state.head += 1
            if state.head > 1024 && state.head * 2 > state.work.count {  // drop what has run
                state.work.removeFirst(state.head)
                state.head = 0
            }
            state.condition.unlock()
            next()
        }
    }
}

#if canImport(_Concurrency)
/// A task executor over a pool's threads: `withTaskExecutorPreference(pool) { … }` runs an async
/// body's synchronous stretches there instead of on the cooperative pool.
extension ThreadPool: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        submit { job.runSynchronously(on: executor) }
    }
}
#endif
