import Core
import Foundation
import Store

/// Jobs run by workers over HTTP (a notebook on a GPU machine): claim, heartbeat, progress,
/// complete and fail, with the lease rules of local workers (`JobRunner`). The routes decode the
/// JSON body and call one method here; every body is checked in full before anything changes.
///
/// A remote worker's name is stored with the prefix `remote:` (`gpu-1` holds jobs as `remote:gpu-1`),
/// so it can never act on a job a local worker holds. A job submitted with `"remote": true` is left
/// to remote workers (local runners skip it); a remote worker also takes ordinary queued jobs of the
/// types it asks for.
///
/// ```swift
/// let remote = RemoteJobs(runner: runner)
/// if let job = try await remote.claim(["types": ["embed"], "worker": "gpu-1", "lease_seconds": 60]) {
///     _ = try await remote.heartbeat(job: job.id, ["worker": "gpu-1", "lease_seconds": 60])
///     _ = try await remote.complete(job: job.id, ["worker": "gpu-1", "result": ["functions": 10]])
/// }
/// ```
public struct RemoteJobs: Sendable {
    public let runner: JobRunner
    var store: any StoreBackend { runner.store }

    /// What remote worker names are stored with.
    public static let workerPrefix = "remote:"
    /// Bounds of `lease_seconds`.
    public static let leaseRange: ClosedRange<Double> = 5...3600
    /// The lease a heartbeat or progress report renews when it names none.
    public static let defaultLease: Double = 60

    public init(runner: JobRunner) { self.runner = runner }

    /// `{types, worker, lease_seconds}`: the oldest queued job of those types, now running under this
    /// worker's lease, or nil when there is none.
    public func claim(_ body: JSONValue) async throws -> JobRecord? {
        let b = try ClaimBody.decode(body, job: "claim")
        let known = Set(runner.types)
        if let unknown = b.types.first(where: { !known.contains($0) }) {
            throw APIError.badRequest("unknown job type '\(unknown)'; known: \(known.sorted().joined(separator: ", "))", code: "unknown_job_type")
        }
        let worker = Self.workerPrefix + b.worker
        guard let job = try await store.claimRemoteJob(worker: worker, types: b.types, leaseSeconds: b.leaseSeconds) else { return nil }
        try? await store.addLog(job: job.id, level: .info, message: "attempt \(job.attempt) of \(job.maxAttempts) on \(worker)")
        return job
    }

    /// `{worker, lease_seconds?}`: renews the lease; the answer says whether cancel was requested
    /// (the worker should stop and report `fail`, which records the job cancelled).
    public func heartbeat(job id: Int64, _ body: JSONValue) async throws -> Lease {
        let b = try BeatBody.decode(body, job: "heartbeat")
        return try await renew(id, worker: Self.workerPrefix + b.worker, leaseSeconds: b.leaseSeconds)
    }

    /// `{worker, progress, message?, metrics?: [{step, name, value}], lease_seconds?}`: renews the lease
    /// as a heartbeat does, then records the progress (seen by `GET /v1/jobs/{id}/events`) and metrics.
    public func progress(job id: Int64, _ body: JSONValue) async throws -> Lease {
        let b = try ProgressBody.decode(body, job: "progress")
        let worker = Self.workerPrefix + b.worker
        let lease = try await renew(id, worker: worker, leaseSeconds: b.leaseSeconds)
        // The lease was just renewed for `lease_seconds` (≥ 5 s): these writes land while it holds.
        try await store.addMetrics(job: id, b.metrics.map { JobMetric(step: $0.step, name: $0.name, value: $0.value) })
        try await store.updateProgress(job: id, worker: worker, progress: b.progress, message: b.message ?? "")
        return lease
    }

    /// `{worker, result?}`: records success with `result` (a JSON object, default `{}`).
    public func complete(job id: Int64, _ body: JSONValue) async throws -> JobRecord {
        let b = try CompleteBody.decode(body, job: "complete")
        let worker = Self.workerPrefix + b.worker
        guard try await store.finishJob(job: id, worker: worker, state: .succeeded, result: b.result ?? .object([:]), error: nil) else {
            throw try await leaseLost(id, worker: worker)
        }
        return try await current(id)
    }

    /// `{worker, error, retry?}`: with `retry` and attempts left the job is queued again, otherwise
    /// failed with `error`; a job whose cancel was requested ends cancelled.
    public func fail(job id: Int64, _ body: JSONValue) async throws -> JobRecord {
        let b = try FailBody.decode(body, job: "fail")
        let worker = Self.workerPrefix + b.worker
        guard let state = try await store.failJob(job: id, worker: worker, error: b.error, retry: b.retry) else {
            throw try await leaseLost(id, worker: worker)
        }
        let note = state == .queued ? "; queued again" : ""
        try? await store.addLog(job: id, level: state == .cancelled ? .warning : .error, message: "\(worker): \(b.error)\(note)")
        return try await current(id)
    }

    /// What a heartbeat or progress report answers.
    public struct Lease: Encodable, Sendable, Equatable {
        public var jobID: Int64
        public var worker: String
        public var leaseExpiresAt: Double
        /// Cancel was requested: stop and report `fail` (the job ends cancelled).
        public var cancelRequested: Bool
        enum CodingKeys: String, CodingKey {
            case jobID = "job_id", worker, leaseExpiresAt = "lease_expires_at", cancelRequested = "cancel_requested"
        }
    }

    private func renew(_ id: Int64, worker: String, leaseSeconds: Double) async throws -> Lease {
        let status = try await store.heartbeat(job: id, worker: worker, leaseSeconds: leaseSeconds)
        guard status.held else { throw try await leaseLost(id, worker: worker) }
        let job = try await current(id)
        return Lease(jobID: id, worker: worker, leaseExpiresAt: job.leaseExpiresAt ?? 0, cancelRequested: status.cancelRequested)
    }

    private func current(_ id: Int64) async throws -> JobRecord {
        guard let job = try await store.job(id: id) else { throw APIError.notFound("job \(id) does not exist", code: "unknown_job") }
        return job
    }

    /// 404 for a job that does not exist, else 409 `lease_lost`.
    private func leaseLost(_ id: Int64, worker: String) async throws -> APIError {
        let job = try await current(id)
        let holder = job.state != .running ? "it is \(job.state.rawValue)" : job.worker == worker ? "its lease ran out" : "another worker holds it"
        return APIError.conflict(
                        "\(worker) does not hold job \(id) (\(holder)); drop the work, nothing was recorded", code: "lease_lost")
    }
}

// MARK: Bodies

/// A remote worker's name: 1…100 of `A-Z a-z 0-9 . _ : @ -`.
private func checkWorker(_ name: String) throws {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:@-")
    guard (1...100).contains(name.count), name.allSatisfy(allowed.contains) else {
        throw JobParamsCheck.bad("'worker' must be 1...100 characters of A-Z a-z 0-9 . _ : @ -")
    }
}

private func checkLease(_ seconds: Double?) throws {
    guard let seconds else { return }
    guard seconds.isFinite else { throw JobParamsCheck.bad("'lease_seconds' must be a finite number") }
    try JobParamsCheck.range("lease_seconds", seconds, RemoteJobs.leaseRange)
}

struct ClaimBody: JobParams {
    var types: [String]
    var worker: String
    var leaseSeconds: Double
    static let knownKeys: Set<String>? = ["types", "worker", "lease_seconds"]
    enum CodingKeys: String, CodingKey { case types, worker, leaseSeconds = "lease_seconds" }
    func validate() throws {
        guard (1...50).contains(types.count) else { throw JobParamsCheck.bad("'types' must list 1...50 job types") }
        try checkWorker(worker)
        try checkLease(leaseSeconds)
    }
}

struct BeatBody: JobParams {
    var worker: String
    var leaseSeconds = RemoteJobs.defaultLease
    static let knownKeys: Set<String>? = ["worker", "lease_seconds"]
    enum CodingKeys: String, CodingKey { case worker, leaseSeconds = "lease_seconds" }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        worker = try c.decode(String.self, forKey: .worker)
        leaseSeconds = try c.value(.leaseSeconds, default: leaseSeconds)
    }
    func validate() throws { try checkWorker(worker); try checkLease(leaseSeconds) }
}

struct ProgressBody: JobParams {
    struct Point: Decodable, Sendable { var step: Int; var name: String; var value: Double }
    var worker: String
    var progress: Double
    var message: String?
    var metrics: [Point] = []
    var leaseSeconds = RemoteJobs.defaultLease
    static let knownKeys: Set<String>? = ["worker", "progress", "message", "metrics", "lease_seconds"]
    enum CodingKeys: String, CodingKey { case worker, progress, message, metrics, leaseSeconds = "lease_seconds" }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        worker = try c.decode(String.self, forKey: .worker)
        progress = try c.decode(Double.self, forKey: .progress)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        metrics = try c.value(.metrics, default: metrics)
        leaseSeconds = try c.value(.leaseSeconds, default: leaseSeconds)
    }
    func validate() throws {
        try checkWorker(worker)
        try checkLease(leaseSeconds)
        try JobParamsCheck.range("progress", progress, 0...1)
        if let message, message.count > 1000 { throw JobParamsCheck.bad("'message' must be at most 1000 characters") }
        guard metrics.count <= 1000 else { throw JobParamsCheck.bad("'metrics' takes at most 1000 points per report") }
        for (i, m) in metrics.enumerated() {
            guard (1...200).contains(m.name.count) else { throw JobParamsCheck.bad("'metrics[\(i)].name' must be 1...200 characters") }
            guard m.value.isFinite else { throw JobParamsCheck.bad("'metrics[\(i)].value' must be a finite number") }
        }
    }
}

struct CompleteBody: JobParams {
    var worker: String
    var result: JSONValue?
    static let knownKeys: Set<String>? = ["worker", "result"]
    func validate() throws {
        try checkWorker(worker)
        if let result, result != .null, result.objectValue == nil { throw JobParamsCheck.bad("'result' must be a JSON object") }
    }
}

struct FailBody: JobParams {
    var worker: String
    var error: String
    var retry = false
    static let knownKeys: Set<String>? = ["worker", "error", "retry"]
    enum CodingKeys: String, CodingKey { case worker, error, retry }
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        worker = try c.decode(String.self, forKey: .worker)
        error = try c.decode(String.self, forKey: .error)
        retry = try c.value(.retry, default: retry)
    }
    func validate() throws {
        try checkWorker(worker)
        guard (1...10_000).contains(error.count) else { throw JobParamsCheck.bad("'error' must be 1...10000 characters") }
    }
}
