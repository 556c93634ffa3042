import Core
import Foundation

/// Where FAISS searches and index writes run, and how many OpenMP threads each search uses: a
/// `ThreadPool` of their own (never Swift's cooperative pool nor Dispatch's: a slow 1000-query batch
/// must not stall other requests or URLSession) plus a small policy. Each job is told how many
/// OpenMP threads to use: by default 1 (env `SEARCH_OMP_THREADS` overrides; 0 = adaptive, all cores
/// when a job runs alone, fewer as more run). Parallelism comes from concurrent requests and, for
/// Flat batches of 20+ queries, from OpenBLAS's own threads: on this 2-core machine, 2 OpenMP
/// threads per search made 64-query Flat batches ~10× slower (OpenMP and OpenBLAS spinning against
/// each other) and HNSW batches no faster (see docs/benchmarks.md).
///
///     let hits = try await SearchExecutor.shared.run { threads in
///         try index.search(queries: q, k: 10, params: SearchParams(threads: threads))
///     }
public struct SearchExecutor: Sendable {
    /// 2 × cores threads (at least 4): enough that a small query can start while big batches run.
    public static let shared = SearchExecutor(threads: max(4, 2 * ProcessInfo.processInfo.activeProcessorCount))

    /// OpenMP threads per search when nothing else is said: env `SEARCH_OMP_THREADS`, else 1.
    public static let defaultOmpThreads: Int =
        ProcessInfo.processInfo.environment["SEARCH_OMP_THREADS"].flatMap { Int($0) }.map { max(0, $0) } ?? 1

    /// The threads searches (and `IndexCatalog`'s per-space write lanes) run on.
    public let pool: ThreadPool
    /// OpenMP threads handed to each job (0 = adaptive).
    public let ompThreadsPerJob: Int
    let cores: Int

    public init(threads: Int, ompThreadsPerJob: Int? = nil, name: String = "swejepa.search") {
        pool = ThreadPool(name: name, threads: threads)
        self.ompThreadsPerJob = max(0, ompThreadsPerJob ?? Self.defaultOmpThreads)
        cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    public var threadCount: Int { pool.threads }

    /// Jobs running right now (for /metrics).
    public var busy: Int { pool.busy }

    /// OpenMP threads for a job that starts while `running` jobs (itself included) run.
    public func ompThreads(running: Int) -> Int {
        ompThreadsPerJob > 0 ? ompThreadsPerJob : max(1, cores / max(1, running))
    }

    /// Runs `body` on one of the pool's threads and resumes with its result.
    /// `body` receives the OpenMP thread count it should use.
    public func run<T: Sendable>(_ body: @escaping @Sendable (_ ompThreads: Int) throws -> T) async throws -> T {
        let policy = self
        return try await pool.run { try body(policy.ompThreads(running: policy.pool.busy)) }
    }
}
