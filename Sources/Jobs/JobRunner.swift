import Core
import Foundation
import Store

/// Runs jobs from the job table: N workers claim jobs atomically, hold a lease renewed by a heartbeat,
/// honour cancel requests, and record the outcome. Several runners (in `swejepa serve` and in
/// `swejepa worker` processes) can share one store.
///
/// ```swift
/// let runner = JobRunner(store: store, dataDirectory: dir, workers: 2)
/// runner.register("echo") { ctx in ctx.params }
/// runner.start()
/// ```
public final class JobRunner: @unchecked Sendable {
    public let store: any StoreBackend
    public let dataDirectory: URL
    public let workers: Int
    /// Seconds a claim stays valid without a heartbeat (a dead worker's job is re-queued after this).
    public let leaseSeconds: Double
    /// Seconds between heartbeats (and cancel checks).
    public let heartbeatSeconds: Double
    public let name: String
    private let lock = NSLock()
    private var handlers: [String: JobHandler] = [:]
    private var validators: [String: @Sendable (JSONValue) throws -> Void] = [:]
    private var tasks: [Task<Void, Never>] = []
    private var wake: [(UUID, CheckedContinuation<Void, Never>)] = []
    private var _progressHook: ProgressHook?
    /// Test seam (nil in production): handed to every job's context and awaited after each of its
    /// progress reports, so a test can hold a job at a known point until it lets it go on.
    var progressHook: ProgressHook? {
        get { lock.lock(); defer { lock.unlock() }; return _progressHook }
        set { lock.lock(); _progressHook = newValue; lock.unlock() }
    }
    /// Set by `stop`: no new claims; running jobs are handed back instead of recorded as failed.
    private var stopping = false
    /// Jobs running in this process, with their heartbeat tasks (so `stop` can hand them back).
    private var active: [Int64: (ctx: JobContext, beat: Task<Void, Never>)] = [:]

    public init(store: any StoreBackend, dataDirectory: URL, workers: Int = 1, leaseSeconds: Double = 30,
                heartbeatSeconds: Double? = nil, name: String? = nil) {
        self.store = store
        self.dataDirectory = dataDirectory
        self.workers = max(0, workers)
        self.leaseSeconds = leaseSeconds
        self.heartbeatSeconds = heartbeatSeconds ?? min(1, leaseSeconds / 3)
        self.name = name ?? "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(6))"
    }

    /// Registers a job type. `validate` runs at submission so bad params get a 4xx before anything is queued.
    public func register(_ type: String, validate: (@Sendable (JSONValue) throws -> Void)? = nil, _ handler: @escaping JobHandler) {
        lock.lock()
        handlers[type] = handler
        validators[type] = validate
        lock.unlock()
    }

    /// Checks a submission: the type must be known here and its params valid.
    public func validate(type: String, params: JSONValue) throws {
        lock.lock()
        let known = handlers[type] != nil
        let validator = validators[type]
        let all = handlers.keys.sorted()
        lock.unlock()
        guard known else {
            throw APIError.badRequest("unknown job type '\(type)'; known: \(all.joined(separator: ", "))", code: "unknown_job_type")
        }
        try validator?(params)
    }

    /// Validates, queues and wakes a worker.
    public func submit(type: String, params: JSONValue, maxAttempts: Int = 3) async throws -> JobRecord {
        try validate(type: type, params: params)
        let job = try await store.createJob(type: type, params: params, maxAttempts: maxAttempts)
        notify()
        return job
    }

    /// Drops every registered type not in `keep` (a worker dedicated to some job types).
    public func restrict(to keep: Set<String>) {
        lock.lock(); defer { lock.unlock() }
        handlers = handlers.filter { keep.contains($0.key) }
    }

    public var types: [String] { lock.lock(); defer { lock.unlock() }; return handlers.keys.sorted() }

    func handler(_ type: String) -> JobHandler? { lock.lock(); defer { lock.unlock() }; return handlers[type] }

    /// Starts the worker loops.
    public func start() {
        lock.lock(); defer { lock.unlock() }
        guard tasks.isEmpty else { return }
        for i in 0..<workers {
            let worker = "\(name)#\(i)"
            tasks.append(Task.detached { [self] in await self.loop(worker: worker) })
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
        let (loops, waiting, running) = lock.withLock { () -> ([Task<Void, Never>], [(UUID, CheckedContinuation<Void, Never>)], [JobContext]) in
            stopping = true
            let out = (tasks, wake, active.values.map(\.ctx))
            tasks = []
            wake = []
            return out
        }
        for w in waiting { w.1.resume() }
        for ctx in running { ctx.flags.set(cancelled: true) }
        if await waitForAll(loops, upTo: grace) { return }
        for t in loops { t.cancel() }
        let stuck = lock.withLock { active.values.map { $0 } }
        for (ctx, beat) in stuck {
            beat.cancel()
            await beat.value
            await handBack(ctx)
        }
    }

    /// Whether `stop` was called.
    public var isStopping: Bool { lock.withLock { stopping } }

    /// Expires the job's lease now, so the next claim (by any worker) queues it again.
    private func handBack(_ ctx: JobContext) async {
        await ctx.log("handed back at shutdown; it resumes on the next claim", level: .warning)
        _ = try? await store.heartbeat(job: ctx.job.id, worker: ctx.worker, leaseSeconds: -1)
    }

    /// Wakes idle workers (called when a job is created).
    public func notify() {
        lock.lock()
        let waiting = wake
        wake = []
        lock.unlock()
        for w in waiting { w.1.resume() }
    }

    private func idle() async {
        let id = UUID()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            wake.append((id, c))
            lock.unlock()
            // Poll anyway: other processes create jobs too.
            Task { [weak self] in
                try? await Task.sleep(nanoseconds: 300_000_000)
                self?.resume(id)
            }
        }
    }

    private func resume(_ id: UUID) {
        lock.lock()
        guard let i = wake.firstIndex(where: { $0.0 == id }) else { lock.unlock(); return }
        let c = wake.remove(at: i).1
        lock.unlock()
        c.resume()
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
        let ctx = JobContext(job: job, store: store, worker: worker, dataDirectory: dataDirectory)
        ctx.progressHook = progressHook
        let beat = Task.detached { [store, leaseSeconds, heartbeatSeconds] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(heartbeatSeconds * 1e9))
                if Task.isCancelled { break }
                if let status = try? await store.heartbeat(job: job.id, worker: worker, leaseSeconds: leaseSeconds) {
                    ctx.flags.set(cancelled: status.cancelRequested, lost: !status.held)
                }
            }
        }
        let stoppingAlready = lock.withLock { () -> Bool in
            active[job.id] = (ctx, beat)
            return stopping
        }
        defer {
            beat.cancel()
            lock.withLock { _ = active.removeValue(forKey: job.id) }
        }
        if stoppingAlready {  // claimed while `stop` ran: give it straight back
            beat.cancel(); await beat.value
            await handBack(ctx)
            return
        }
        await ctx.log("attempt \(job.attempt) of \(job.maxAttempts) on \(worker)")
        guard let handler = handler(job.type) else {
            _ = try? await store.finishJob(job: job.id, worker: worker, state: .failed, result: nil,
                                       error: "no handler for job type '\(job.type)' on this worker")
            return
        }
        do {
            let result = try await handler(ctx)
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
