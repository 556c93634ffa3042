import CFaiss
import Foundation

/// Dedicated threads for blocking FAISS searches, so they never occupy Swift's cooperative pool
/// (a slow 1000-query batch must not stall other requests). Each job is told how many OpenMP
/// threads to use: by default 1 (env `SEARCH_OMP_THREADS` overrides; 0 = adaptive, all cores when
/// a job runs alone, fewer as more run). Parallelism comes from concurrent requests and, for Flat
/// batches of 20+ queries, from OpenBLAS's own threads: on this 2-core machine, 2 OpenMP threads
/// per search made 64-query Flat batches ~10× slower (OpenMP and OpenBLAS spinning against each
/// other) and HNSW batches no faster (see docs/benchmarks.md).
///
///     let hits = try await SearchExecutor.shared.run { threads in
///         try index.search(queries: q, k: 10, params: SearchParams(threads: threads))
///     }
public final class SearchExecutor: @unchecked Sendable {
    /// 2 × cores threads (at least 4): enough that a small query can start while big batches run.
    public static let shared = SearchExecutor(threads: max(4, 2 * ProcessInfo.processInfo.activeProcessorCount))

    /// OpenMP threads per search when nothing else is said: env `SEARCH_OMP_THREADS`, else 1.
    public static let defaultOmpThreads: Int =
        ProcessInfo.processInfo.environment["SEARCH_OMP_THREADS"].flatMap { Int($0) }.map { max(0, $0) } ?? 1

    public let threadCount: Int
    /// OpenMP threads handed to each job (0 = adaptive).
    public let ompThreadsPerJob: Int
    let cores: Int
    private let condition = NSCondition()
    private var queue: [(Int) -> Void] = []
    private var head = 0
    private var running = 0

    public init(threads: Int, ompThreadsPerJob: Int? = nil, name: String = "faiss-search") {
        threadCount = max(1, threads)
        self.ompThreadsPerJob = max(0, ompThreadsPerJob ?? Self.defaultOmpThreads)
        cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        for i in 0..<threadCount {
            // Threads keep the executor alive: it lives as long as the process (create few).
            let t = Thread { self.loop() }
            t.name = "\(name)-\(i)"
            t.stackSize = 8 << 20
            t.start()
        }
    }

    /// Jobs running right now (for /metrics).
    public var busy: Int {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    /// Runs `body` on one of the executor's threads and resumes with its result.
    /// `body` receives the OpenMP thread count it should use.
    public func run<T: Sendable>(_ body: @escaping @Sendable (_ ompThreads: Int) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            submit { threads in c.resume(with: Result { try body(threads) }) }
        }
    }

    private func submit(_ job: @escaping (Int) -> Void) {
        condition.lock()
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while head == queue.count { condition.wait() }
            let job = queue[head]
            head += 1
            if head > 1024, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            running += 1
            let threads = ompThreadsPerJob > 0 ? ompThreadsPerJob : max(1, cores / running)
            condition.unlock()
            job(threads)
            condition.lock()
            running -= 1
            condition.unlock()
        }
    }
}

/// Runs blocking work on a Dispatch queue (not the cooperative pool) and awaits it.
func onQueue<T: Sendable>(_ queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
        queue.async { c.resume(with: Result { try body() }) }
    }
}
