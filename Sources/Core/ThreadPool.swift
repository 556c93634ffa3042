import Foundation

/// The package's one executor for blocking work (BLAS-heavy jobs, FAISS searches and index builds,
/// SQLite calls, CPU-bound tests): threads of its own, outside Swift's cooperative pool and Dispatch's.
///
/// Dispatch's global pool has one thread per core and URLSession and every dispatch queue draw from
/// it; Swift's cooperative pool is as small and serves every async task. Work that blocks a thread
/// for milliseconds to minutes on either starves everything else on a 2-core machine. A `ThreadPool`
/// runs such work on its own threads instead, FIFO, at most `threads` at a time (started as work
/// arrives, ended when the pool is); the kernel shares the cores fairly between them and everyone
/// else. A pool of one thread (`serial`) runs its jobs one at a time in submission order; a `Lane`
/// does the same on a shared pool without a thread of its own.
///
/// ```swift
/// let pool = ThreadPool(name: "compute", threads: 2)
/// let sum = try await pool.run { (0..<1_000_000).reduce(0, +) }
/// let writer = ThreadPool.serial(name: "store.writer")   // one thread: jobs in order
/// print(pool.busy)                                       // jobs running right now (for /metrics)
/// ```
public final class ThreadPool: Sendable {
    /// The pool every compute-heavy job step shares: one thread per core.
    public static let compute = ThreadPool(name: "swejepa.compute", threads: ProcessInfo.processInfo.activeProcessorCount)

    public typealias Job = @Sendable () -> Void

    /// The work queue shared with the threads (which must not keep the pool alive). A condition
    /// variable is the right tool for a worker queue: idle threads sleep on it until work arrives or
    /// the pool ends, which a `Mutex` cannot express.
    private final class Queue: @unchecked Sendable {  // safe: every `var` is read and written under `condition`
        let condition = NSCondition()
        /// Jobs in submission order; a taken job's slot is set to nil at once, so a job that ran (and
        /// whatever its closure captured: a request's vectors, a continuation) is not kept alive until
        /// the array is compacted (up to 1,024 of them per pool did: issue 12's soak heap growth).
        var work: [Job?] = []
        var head = 0
        var stopped = false
        /// Threads started so far (≤ the pool's `threads`), and jobs running on them now.
        var started = 0
        var running = 0

        /// Called by a thread when it is free (`finished`: after a job): waits for the next job, nil
        /// once the pool has ended and the queue is drained.
        func take(finished: Bool) -> Job? {
            condition.withLock {
                if finished { running -= 1 }
                while head == work.count && !stopped { condition.wait() }
                guard head < work.count else { return nil }
                let next = work[head]
                work[head] = nil
                head += 1
                if head > 1024 && head * 2 > work.count {  // drop what has run
                    work.removeFirst(head)
                    head = 0
                }
                running += 1
                return next
            }
        }
    }

    private let queue = Queue()
    public let name: String
    /// Most threads the pool runs (and jobs at a time).
    public let threads: Int

    /// The name of the pool whose thread runs the caller, nil off every pool's threads.
    public static var currentPoolName: String? { Thread.current.threadDictionary[poolNameKey] as? String }
    private static let poolNameKey = "swejepa.ThreadPool.name"

    /// A pool of at most `threads` threads, named `name.0`, `name.1`, … (started as work arrives).
    public init(name: String, threads: Int) {
        self.name = name
        self.threads = max(1, threads)
    }

    /// A pool of one thread: its jobs run one at a time, in the order they were submitted.
    public static func serial(name: String) -> ThreadPool { ThreadPool(name: name, threads: 1) }

    deinit {
        queue.condition.withLock {
            queue.stopped = true
            queue.condition.broadcast()
        }
    }

    /// Jobs running right now.
    public var busy: Int { queue.condition.withLock { queue.running } }

    /// Jobs waiting for a thread.
    public var queued: Int { queue.condition.withLock { queue.work.count - queue.head } }

    /// Queues `work`; it runs on one of the pool's threads.
    public func submit(_ work: @escaping Job) {
        let q = queue
        let newThread: Int? = q.condition.withLock {
            q.work.append(work)
            q.condition.signal()
            // Threads not running a job are waiting for one (or about to): start one more only when
            // the waiting jobs outnumber them.
            guard q.work.count - q.head > q.started - q.running, q.started < threads else { return nil }
            q.started += 1
            return q.started - 1
        }
        if let newThread { start(thread: newThread) }
    }

    /// Runs `body` on one of the pool's threads and returns what it returns (or throws).
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in
            submit { cont.resume(with: Result { try body() }) }
        }
    }

    private func start(thread index: Int) {
        let (queue, name) = (self.queue, self.name)
        let thread = Thread {
            Thread.current.threadDictionary[Self.poolNameKey] = name
            // The job is released before the thread waits for the next one.
            var ran = false
            while let job = queue.take(finished: ran) {
                job()
                ran = true
            }
        }
        thread.name = "\(name).\(index)"
        thread.stackSize = 8 << 20  // deep recursion in the parser and BLAS frames
        thread.start()
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
