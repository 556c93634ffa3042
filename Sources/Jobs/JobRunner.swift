import Core
import Foundation
import Store

/// Runs jobs from the job table: N workers claim jobs atomically, hold a lease renewed by a heartbeat,
/// honour cancel requests, and record the outcome. Several runners (in `swejepa serve` and in
/// `swejepa worker` processes) can share one store.
///
/// ```swift
/// let runner = JobRunner(store: store, dataDirectory: dir, workers: 2)
/// runner.register("sleep", SleepParams.self) { ctx, p in try await sleep(ctx, p) }   // p: decoded, validated
/// runner.start()
/// ```
public final class JobRunner: Sendable {
    public let store: any StoreBackend
    public let dataDirectory: URL
    public let workers: Int
    /// Seconds a claim stays valid without a heartbeat (a dead worker's job is re-queued after this).
    public let leaseSeconds: Double
    /// Seconds between heartbeats (and cancel checks).
    public let heartbeatSeconds: Double
    public let name: String

    private struct State {
        var types: [String: JobType] = [:]
        var tasks: [Task<Void, Never>] = []
        /// Follows the store's job wakeups (when it has them).
        var listener: Task<Void, Never>?
        /// How long an idle worker waits before claiming again without a wakeup.
        var pollNanoseconds: UInt64 = 300_000_000
        var wake: [(UUID, CheckedContinuation<Void, Never>)] = []
        var progressHook: ProgressHook?
        /// Set by `stop`: no new claims; running jobs are handed back instead of recorded as failed.
        var stopping = false
        /// Jobs running in this process, with their heartbeat tasks (so `stop` can hand them back).
        var active: [Int64: (ctx: JobContext, beat: Task<Void, Never>)] = [:]
    }
    private let state = Mutex(State())

    /// Test seam (nil in production): handed to every job's context and awaited after each of its
    /// progress reports, so a test can hold a job at a known point until it lets it go on.
    var progressHook: ProgressHook? {
        get { state.withLock { $0.progressHook } }
        set { state.withLock { $0.progressHook = newValue } }
    }

    public init(store: any StoreBackend, dataDirectory: URL, workers: Int = 1, leaseSeconds: Double = 30,
                heartbeatSeconds: Double? = nil, name: String? = nil) {
        self.store = store
        self.dataDirectory = dataDirectory
        self.workers = max(0, workers)
        self.leaseSeconds = leaseSeconds
        self.heartbeatSeconds = heartbeatSeconds ?? min(1, leaseSeconds / 3)
        self.name = name ?? "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(6))"
    }

    /// Registers a job type. Its params are decoded and validated at submission (bad params get a 400
    /// before anything is queued) and decoded again from the stored JSON when a worker claims the job;
    /// `run` receives them typed and returns a result that is stored as JSON.
    public func register<P: JobParams, R: Encodable & Sendable>(
        _ type: String, _ params: P.Type, _ run: @escaping @Sendable (JobContext, P) async throws -> R) {
        register(type, params, check: { _ in }, run)
    }

    /// Registers a job type whose decoded params must also pass `check` (a rule of this process, such as
    /// the ingest roots it was started with), both at submission and again when a worker claims the job.
    public func register<P: JobParams, R: Encodable & Sendable>(
        _ type: String, _ params: P.Type, check: @escaping @Sendable (P) throws -> Void,
        _ run: @escaping @Sendable (JobContext, P) async throws -> R) {
        let entry = JobType(
            check: { json in try check(try P.decode(json, job: type)) },
            run: { ctx in
                let p = try P.decode(ctx.params, job: type)
                try check(p)
                return try JSONValue.from(try await run(ctx, p))
            })
        state.withLock { $0.types[type] = entry }
    }

    /// Checks a submission: the type must be known here and its params valid.
    public func validate(type: String, params: JSONValue) throws {
        let (entry, all) = state.withLock { ($0.types[type], $0.types.keys.sorted()) }
        guard let entry else {
            throw APIError.badRequest("unknown job type '\(type)'; known: \(all.joined(separator: ", "))", code: "unknown_job_type")
        }
        try entry.check(params)
    }

    /// Validates, queues and wakes a worker. A `remote` job is left to workers over HTTP
    /// (`POST /v1/jobs/claim`): its params carry `"remote": true`, which local runners skip.
    public func submit(type: String, params: JSONValue, maxAttempts: Int = 3, remote: Bool = false) async throws -> JobRecord {
        try validate(type: type, params: params)
        var stored = params
        if remote, case .object(var fields) = params {
            fields["remote"] = true
            stored = .object(fields)
        }
        let job = try await store.createJob(type: type, params: stored, maxAttempts: maxAttempts)
        notify()
        return job
    }

    /// Drops every registered type not in `keep` (a worker dedicated to some job types).
    public func restrict(to keep: Set<String>) {
        state.withLock { $0.types = $0.types.filter { keep.contains($0.key) } }
    }

    public var types: [String] { state.withLock { $0.types.keys.sorted() } }

    private func jobType(_ type: String) -> JobType? { state.withLock { $0.types[type] } }

    /// Starts the worker loops.
    public func start() {
        state.withLock { s in
            guard s.tasks.isEmpty else { return }
            if workers > 0, let wakeups = store.jobWakeups() {
                // Submissions anywhere wake idle workers at once; the slower poll still rescues
                // expired leases (claims do) and covers a listener that is reconnecting.
                s.pollNanoseconds = 5_000_000_000
                s.listener = Task.detached { [weak self] in
                    for await _ in wakeups { self?.notify() }
                }
            }
            for i in 0..<workers {
                let worker = "\(name)#\(i)"
                s.tasks.append(Task.detached { [self] in await self.loop(worker: worker) })
            }
        }
    }

    /// Stops claiming and hands running jobs back, waiting at most `grace` seconds.
    ///
    /// Running jobs are asked to stop at their next checkpoint (`checkCancelled`); each is then handed
    /// back (its lease expired at once, so the next claim — this store's next start or another
    /// worker — queues it again and it resumes) instead of being recorded as cancelled or failed.
    /// Jobs still running after `grace` are cancelled (Swift task cancellation) and handed back anyway.
    /// Returns when every worker loop ended or the grace period ran out.
    public func stop(grace: Double = 10) async {
        let (loops, waiting, running) = state.withLock { s in
            s.stopping = true
            let out = (s.tasks, s.wake, s.active.values.map(\.ctx))
            s.listener?.cancel()
            s.listener = nil
            s.tasks = []
            s.wake = []
            return out
        }
        for w in waiting { w.1.resume() }
        for ctx in running { ctx.flags.set(cancelled: true) }
        if await waitForAll(loops, upTo: grace) { return }
        for t in loops { t.cancel() }
        let stuck = state.withLock { $0.active.values.map { $0 } }
        for (ctx, beat) in stuck {
            beat.cancel()
            await beat.value
            await handBack(ctx)
        }
    }

    /// Whether `stop` was called.
    public var isStopping: Bool { state.withLock { $0.stopping } }

    /// Queues the job again at once, without spending the attempt it was on (stopping is not the
    /// job's fault); the next claim, by any worker, resumes it.
    private func handBack(_ ctx: JobContext) async {
        await ctx.log("handed back at shutdown; it resumes on the next claim", level: .warning)
        if (try? await store.releaseJob(job: ctx.job.id, worker: ctx.worker)) != true {
            // The store is unreachable (or the lease was lost meanwhile): let the lease run out instead.
            _ = try? await store.heartbeat(job: ctx.job.id, worker: ctx.worker, leaseSeconds: -1)
        }
    }

    /// Wakes idle workers (called when a job is created).
    public func notify() {
        let waiting = state.withLock { s in
            defer { s.wake = [] }
            return s.wake
        }
        for w in waiting { w.1.resume() }
    }

    private func idle() async {
        let id = UUID()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let poll = state.withLock { s in
                s.wake.append((id, c))
                return s.pollNanoseconds
            }
            // Poll anyway: other processes create jobs too (and leases expire).
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: poll)
                self?.resume(id)
            }
        }
    }

    private func resume(_ id: UUID) {
        let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let i = s.wake.firstIndex(where: { $0.0 == id }) else { return nil }
            return s.wake.remove(at: i).1
        }
        c?.resume()
    }

    private func loop(worker: String) async {
        while !Task.isCancelled && !isStopping {
            let job: JobRecord?
            do {
                job = try await store.claimJob(worker: worker, types: types, leaseSeconds: leaseSeconds)
            } catch {
                try? await Task.sleep(nanoseconds: 500_000_000)
                continue
            }
            guard let job else {
                await idle()
                continue
            }
            await run(job, worker: worker)
        }
    }

    /// Runs one claimed job to its end.
    func run(_ job: JobRecord, worker: String) async {
        let ctx = JobContext(job: job, store: store, worker: worker, dataDirectory: dataDirectory, progressHook: progressHook)
        let beat = Task.detached { [store, leaseSeconds, heartbeatSeconds] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(heartbeatSeconds * 1e9))
                if Task.isCancelled { break }
                if let status = try? await store.heartbeat(job: job.id, worker: worker, leaseSeconds: leaseSeconds) {
                    ctx.flags.set(cancelled: status.cancelRequested, lost: !status.held)
                }
            }
        }
        let stoppingAlready = state.withLock { s in
            s.active[job.id] = (ctx, beat)
            return s.stopping
        }
        defer {
            beat.cancel()
            state.withLock { _ = $0.active.removeValue(forKey: job.id) }
        }
        if stoppingAlready {  // claimed while `stop` ran: give it straight back
            beat.cancel(); await beat.value
            await handBack(ctx)
            return
        }
        await ctx.log("attempt \(job.attempt) of \(job.maxAttempts) on \(worker)")
        guard let type = jobType(job.type) else {
            _ = try? await store.finishJob(job: job.id, worker: worker, state: .failed, result: nil,
                                       error: "no handler for job type '\(job.type)' on this worker")
            return
        }
        do {
            let result = try await type.run(ctx)
            try await store.finishJob(job: job.id, worker: worker, state: .succeeded, result: result, error: nil)
        } catch {
            if ctx.flags.lost { return }  // another worker owns it now
            if isStopping {
                // Interrupted by shutdown (a checkpoint, or task cancellation past the grace period): not the
                // job's fault, so it is handed back rather than recorded as cancelled or failed.
                beat.cancel(); await beat.value
                await handBack(ctx)
                return
            }
            if error is JobCancelled {
                await ctx.log("cancelled", level: .warning)
                _ = try? await store.finishJob(job: job.id, worker: worker, state: .cancelled, result: nil, error: nil)
                return
            }
            let message = (error as? APIError)?.message ?? "\(error)"
            await ctx.log(message, level: .error)
            _ = try? await store.finishJob(job: job.id, worker: worker, state: .failed, result: nil, error: message)
        }
    }
}

/// A registered job type, its params type erased: `check` decodes and validates submitted params,
/// `run` decodes the stored ones, runs the job and encodes its result.
private struct JobType: Sendable {
    var check: @Sendable (JSONValue) throws -> Void
    var run: @Sendable (JobContext) async throws -> JSONValue
}
