import Core
import Foundation

/// A job row.
public struct JobRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var type: String
    public var state: JobState
    public var params: JSONValue
    public var result: JSONValue?
    public var error: String?
    public var progress: Double
    public var message: String
    public var attempt: Int
    public var maxAttempts: Int
    public var worker: String?
    public var leaseExpiresAt: Double?
    public var cancelRequested: Bool
    public var createdAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    public var updatedAt: Double

    enum CodingKeys: String, CodingKey {
        case id, type, state, params, result, error, progress, message, attempt, worker
        case maxAttempts = "max_attempts", leaseExpiresAt = "lease_expires_at", cancelRequested = "cancel_requested"
        case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at", updatedAt = "updated_at"
    }
}

/// One point of a job's metric time series.
public struct JobMetric: Codable, Sendable, Equatable {
    public var step: Int
    public var name: String
    public var value: Double
    public var at: Double
    public init(step: Int, name: String, value: Double, at: Double = Date().timeIntervalSince1970) {
        self.step = step; self.name = name; self.value = value; self.at = at
    }
}

/// One log line of a job.
public struct JobLog: Codable, Sendable, Equatable {
    public var id: Int64
    public var at: Double
    public var level: LogLevel
    public var message: String
}

/// What a heartbeat learns: whether this worker still holds the job and whether cancel was asked.
public struct LeaseStatus: Sendable, Equatable {
    public var held: Bool
    public var cancelRequested: Bool
}

/// Job table operations every store backend provides (claiming is atomic across processes).
public protocol JobStore: Sendable {
    func createJob(type: String, params: JSONValue, maxAttempts: Int) async throws -> JobRecord
    func job(id: Int64) async throws -> JobRecord?
    /// Jobs newest first, optionally of one state and type, with ids below `before` (the last id of
    /// the previous page), at most `limit`.
    ///
    /// ```swift
    /// let page1 = try await store.jobs(state: nil, type: "train", before: nil, limit: 50)
    /// let page2 = try await store.jobs(state: nil, type: "train", before: page1.last?.id, limit: 50)
    /// ```
    func jobs(state: JobState?, type: String?, before: Int64?, limit: Int) async throws -> [JobRecord]
    /// Re-queues (or fails, past max_attempts) jobs whose lease expired, then claims the oldest queued job.
    /// Jobs submitted with `remote: true` (params `{"remote": true}`) are left to `claimRemoteJob`.
    func claimJob(worker: String, types: [String], leaseSeconds: Double) async throws -> JobRecord?
    /// `claimJob` for a worker over HTTP: the same lease rescue and order, and remote-only jobs too.
    func claimRemoteJob(worker: String, types: [String], leaseSeconds: Double) async throws -> JobRecord?
    func heartbeat(job: Int64, worker: String, leaseSeconds: Double) async throws -> LeaseStatus
    /// Hands a running job back (its worker is stopping): queued again at once, the attempt it was
    /// on not spent (a cancel requested meanwhile makes it cancelled). False when `worker` no longer held it.
    func releaseJob(job: Int64, worker: String) async throws -> Bool
    func updateProgress(job: Int64, worker: String, progress: Double, message: String) async throws
    func addMetrics(job: Int64, _ metrics: [JobMetric]) async throws
    func addLog(job: Int64, level: LogLevel, message: String) async throws
    /// Records the outcome if `worker` still holds the job; returns false otherwise.
    @discardableResult
    func finishJob(job: Int64, worker: String, state: JobState, result: JSONValue?, error: String?) async throws -> Bool
    /// A failure reported by the worker holding the job: queued again when `retry` and attempts remain
    /// (the attempt stays spent, as when a lease runs out), otherwise failed with `error`; cancelled
    /// when cancel was requested. Returns the new state, or nil (nothing changed) when `worker` does
    /// not hold the job.
    func failJob(job: Int64, worker: String, error: String, retry: Bool) async throws -> JobState?
    /// Cancels a queued job at once; asks a running one to stop. Nil when the job does not exist.
    func requestCancel(job: Int64) async throws -> JobRecord?
    func jobMetrics(job: Int64, name: String?, afterStep: Int?) async throws -> [JobMetric]
    /// The points recorded after `afterSequence` in recording order, at most `limit`, each with its
    /// sequence number: a follower (the events stream) reads only what is new.
    func jobMetrics(job: Int64, afterSequence: Int64, limit: Int) async throws -> [(sequence: Int64, metric: JobMetric)]
    func jobLogs(job: Int64, afterID: Int64?, limit: Int) async throws -> [JobLog]
    /// Ticks when a job may have become claimable (created or re-queued), in any process on this store
    /// (PostgreSQL: LISTEN/NOTIFY); nil when the backend cannot tell (idle workers then poll often).
    func jobWakeups() -> AsyncStream<Void>?
}

extension JobStore {
    public func jobWakeups() -> AsyncStream<Void>? { nil }
}

extension JobStore {
    /// The newest `limit` jobs, optionally of one state and type (the first page of `jobs(state:type:before:limit:)`).
    public func jobs(state: JobState?, type: String?, limit: Int) async throws -> [JobRecord] {
        try await jobs(state: state, type: type, before: nil, limit: limit)
    }
}
