import CFaiss
import Foundation

/// Dedicated threads for blocking FAISS searches, so they never occupy Swift's cooperative pool
/// (a slow 1000-query batch must not stall other requests). Each job is told how many OpenMP
/// threads to use: all cores when it runs alone, fewer as more jobs run at once.
///
///     let hits = try await SearchExecutor.shared.run { threads in
///         try index.search(queries: q, k: 10, params: SearchParams(threads: threads))
///     }
public final class SearchExecutor: @unchecked Sendable {
    /// 2 × cores threads (at least 4): enough that a small query can start while big batches run.
    public static let shared = SearchExecutor(threads: max(4, 2 * ProcessInfo.processInfo.activeProcessorCount))

    public let threadCount: Int
    let cores: Int
    private let condition = NSCondition()
    private var queue: [(Int) -> Void] = []
    private var head = 0
    private var running = 0

    public init(threads: Int, name: String = "faiss-search") {
        threadCount = max(1, threads)
        cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        for i in 0..<threadCount {
            let t = Thread { [unowned self] in self.loop() }
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
            let threads = max(1, cores / running)
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
