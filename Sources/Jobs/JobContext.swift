import Core
import Foundation
import Services
import Store

/// Thrown by `JobContext.checkCancelled()` once cancel was requested (or the lease was lost).
public struct JobCancelled: Error, CustomStringConvertible {
    public var description: String { "cancelled" }
    public init() {}
}

/// What a running job sees: its parameters, the store, and ways to report progress, metrics and logs.
///
/// ```swift
/// for (i, batch) in batches.enumerated() {
///     try ctx.checkCancelled()
///     ...
///     await ctx.progress(Double(i + 1) / Double(batches.count), "batch \(i + 1)")
///     await ctx.metric(step: i, "loss", loss)
/// }
/// ```
public final class JobContext: Sendable {
    public let job: JobRecord
    public let store: any StoreBackend
    public let worker: String
    public let dataDirectory: URL
    let flags = Flags()
    /// Test seam (nil in production): awaited after every progress report, so a test can hold the
    /// job at a known point (`JobRunner.progressHook`).
    let progressHook: ProgressHook?

    /// Cancel requested / lease lost; once set, they stay set.
    final class Flags: Sendable {
        private let state = Mutex((cancelled: false, lost: false))
        var cancelled: Bool { state.withLock { $0.cancelled || $0.lost } }
        var lost: Bool { state.withLock { $0.lost } }
        func set(cancelled: Bool? = nil, lost: Bool? = nil) {
            state.withLock { s in
                if let cancelled { s.cancelled = s.cancelled || cancelled }
                if let lost { s.lost = s.lost || lost }
            }
        }
    }

    init(job: JobRecord, store: any StoreBackend, worker: String, dataDirectory: URL, progressHook: ProgressHook? = nil) {
        self.job = job
        self.store = store
        self.worker = worker
        self.dataDirectory = dataDirectory
        self.progressHook = progressHook
    }

    public var params: JSONValue { job.params }
    public var isCancelled: Bool { flags.cancelled }

    /// Throws `JobCancelled` when cancel was requested; call it between batches or steps.
    public func checkCancelled() throws {
        if flags.cancelled { throw JobCancelled() }
    }

    public func progress(_ fraction: Double, _ message: String) async {
        try? await store.updateProgress(job: job.id, worker: worker, progress: fraction, message: message)
        if let progressHook { await progressHook(self, fraction, message) }
    }

    public func metric(step: Int, _ name: String, _ value: Double) async {
        try? await store.addMetrics(job: job.id, [JobMetric(step: step, name: name, value: value)])
    }

    public func metrics(_ points: [JobMetric]) async {
        try? await store.addMetrics(job: job.id, points)
    }

    public func log(_ message: String, level: LogLevel = .info) async {
        try? await store.addLog(job: job.id, level: level, message: message)
    }

    /// Runs CPU-heavy work on a compute thread, off the cooperative pool that serves HTTP.
    public func compute<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await Compute.run(body)
    }
}

/// Told of every progress report of a job (a test seam, see `JobRunner.progressHook`).
typealias ProgressHook = @Sendable (_ ctx: JobContext, _ fraction: Double, _ message: String) async -> Void
