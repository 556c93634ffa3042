import Core
import Foundation
import Testing
@testable import Jobs
import Services
@testable import Store
import TestSupport

/// A runner with every job type; `ingest` may read under `ingestRoots` (default: the temporary
/// directory, where the tests' scratch repositories live).
/// `store`: the store to run on (a `TestStore`'s, for the backend under test; default: SQLite in `dir`).
func makeRunner(_ dir: URL, store: (any StoreBackend)? = nil, workers: Int = 1, lease: Double = 30, name: String? = nil,
                ingestRoots: [String] = [FileManager.default.temporaryDirectory.path]) throws -> JobRunner {
    let runner = JobRunner(store: try store ?? SQLiteStore(directory: dir), dataDirectory: dir, workers: workers,
                           leaseSeconds: lease, heartbeatSeconds: min(0.2, lease / 3), name: name)
    JobTypes.registerAll(on: runner, writer: VectorWriter(store: runner.store, search: nil), ingestRoots: try IngestRoots(ingestRoots))
    return runner
}

/// Holds a job at the first progress report whose message is `message` until `release()`
/// (installed as `JobRunner.progressHook`): the test knows where the job is, whatever the speed.
final class ProgressGate: @unchecked Sendable {
    let message: String
    private let lock = NSLock()
    private var held: JobContext?
    private var waiter: CheckedContinuation<Void, Never>?
    private var released = false

    init(at message: String) { self.message = message }

    func install(on runner: JobRunner) {
        runner.progressHook = { [self] ctx, _, message in await self.pass(ctx, message) }
    }

    private func pass(_ ctx: JobContext, _ message: String) async {
        guard message == self.message else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if released || held != nil { lock.unlock(); c.resume(); return }  // only the first arrival waits
            held = ctx
            waiter = c
            lock.unlock()
        }
    }

    /// The context of the job being held (nil until it arrives).
    var context: JobContext? { lock.lock(); defer { lock.unlock() }; return held }

    func release() {
        lock.lock()
        released = true
        let w = waiter
        waiter = nil
        lock.unlock()
        w?.resume()
    }
}

@Suite struct JobRunnerTests {
    @Test(arguments: Backend.all) func racingWorkersClaimEachJobOnce(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        // Two runners with their own connections, as two processes would have.
        let a = try makeRunner(dir, store: try db.open(), workers: 2, name: "a"), b = try makeRunner(dir, store: try db.open(), workers: 2, name: "b")
        var ids = [Int64]()
        for _ in 0..<30 { ids.append(try await a.submit(type: "sleep", params: ["seconds": 0.01, "steps": 1]).id) }
        a.start(); b.start()
        let store = a.store
        #expect(try await eventually { try await store.jobs(state: .succeeded, type: nil, limit: 100).count == 30 })
        await a.stop(); await b.stop()
        for id in ids {
            let job = try #require(try await store.job(id: id))
            #expect(job.attempt == 1)
            let attempts = try await store.jobLogs(job: id, afterID: nil, limit: 100).filter { $0.message.hasPrefix("attempt") }
            #expect(attempts.count == 1)
        }
    }

    @Test(arguments: Backend.all) func cancelStopsARunningJobAndAQueuedOneAtOnce(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open())
        // The running job is held after its third step until the cancel request has reached it.
        let gate = ProgressGate(at: "step 3/300")
        gate.install(on: runner)
        let running = try await runner.submit(type: "sleep", params: ["seconds": 3, "steps": 300])
        let queued = try await runner.submit(type: "sleep", params: ["seconds": 1])
        runner.start()
        let store = runner.store
        #expect(try await eventually { gate.context != nil })
        #expect(try await store.job(id: running.id)?.state == .running)
        #expect(try await store.requestCancel(job: queued.id)?.state == .cancelled)
        _ = try await store.requestCancel(job: running.id)
        // The heartbeat carries the request to the job (generous bound: it is the runner's work, not speed).
        let ctx = try #require(gate.context)
        #expect(try await eventually(120) { ctx.isCancelled })
        gate.release()
        // Honoured at the next step: exactly the three steps before the gate ran.
        #expect(try await eventually(120) { try await store.job(id: running.id)?.state.isFinal == true })
        #expect(try await store.job(id: running.id)?.state == .cancelled)
        #expect(try await store.jobMetrics(job: running.id, name: "step", afterStep: nil).map(\.step) == [0, 1, 2])
        await runner.stop()
        #expect(try await store.job(id: queued.id)?.attempt == 0)  // never ran
    }

    @Test(arguments: Backend.all) func aThrowingJobFailsWithItsErrorAndTheRunnerGoesOn(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open())
        let bad = try await runner.submit(type: "sleep", params: ["seconds": 0, "fail": true])
        let good = try await runner.submit(type: "sleep", params: ["seconds": 0])
        runner.start()
        let store = runner.store
        #expect(try await eventually { try await store.job(id: good.id)?.state == .succeeded })
        let failed = try #require(try await store.job(id: bad.id))
        #expect(failed.state == .failed && failed.error == "asked to fail")
        await runner.stop()
        #expect(throws: APIError.self) { try runner.validate(type: "sleep", params: ["seconds": -1]) }
        #expect(throws: APIError.self) { try runner.validate(type: "no_such_type", params: [:]) }
    }

    @Test(arguments: Backend.all) func aReleasedJobIsQueuedAgainWithoutSpendingAnAttempt(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let store = db.store
        let job = try await store.createJob(type: "sleep", params: ["seconds": 1], maxAttempts: 1)
        // Handed back twice (a worker stopping twice): a one-attempt job is still claimable after both.
        for round in 1...2 {
            let claimed = try #require(try await store.claimJob(worker: "w\(round)", types: [], leaseSeconds: 30))
            #expect(claimed.id == job.id && claimed.attempt == 1)
            #expect(try await store.releaseJob(job: job.id, worker: "someone-else") == false)
            #expect(try await store.releaseJob(job: job.id, worker: "w\(round)"))
            let back = try #require(try await store.job(id: job.id))
            #expect(back.state == .queued && back.attempt == 0 && back.worker == nil && back.leaseExpiresAt == nil, "\(back)")
        }
        // A cancel requested while it ran: releasing ends it as cancelled rather than queueing it.
        let claimed = try #require(try await store.claimJob(worker: "w3", types: [], leaseSeconds: 30))
        _ = try await store.requestCancel(job: claimed.id)
        #expect(try await store.releaseJob(job: job.id, worker: "w3"))
        let final = try #require(try await store.job(id: job.id))
        #expect(final.state == .cancelled && final.finishedAt != nil, "\(final)")
        #expect(try await store.claimJob(worker: "w4", types: [], leaseSeconds: 30) == nil)
    }

    @Test(arguments: Backend.all) func anExpiredLeaseRequeuesUntilMaxAttemptsThenFails(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let store = db.store
        let job = try await store.createJob(type: "sleep", params: ["seconds": 1], maxAttempts: 2)
        // Claim with a lease that runs out at once, twice: a worker dying each time.
        let first = try #require(try await store.claimJob(worker: "dead-1", types: [], leaseSeconds: -1))
        #expect(first.id == job.id && first.attempt == 1)
        let second = try #require(try await store.claimJob(worker: "dead-2", types: [], leaseSeconds: -1))
        #expect(second.id == job.id && second.attempt == 2)
        #expect(try await store.claimJob(worker: "w", types: [], leaseSeconds: 30) == nil)
        let final = try #require(try await store.job(id: job.id))
        #expect(final.state == .failed && final.error!.contains("lease expired"))
        // A dead worker cannot record an outcome any more.
        #expect(try await store.finishJob(job: job.id, worker: "dead-2", state: .succeeded, result: nil, error: nil) == false)
    }

    /// A real worker process is killed with SIGKILL mid-job; its lease runs out and another worker
    /// resumes the job (skipping finished steps) on attempt 2 — not before the lease ran out.
    ///
    /// Nothing here assumes a speed: the worker is parked after step 1 (`hold_after_step`, released
    /// by a file only the test writes), so the kill always lands mid-job however the two processes
    /// are scheduled. The dead worker's lease (`deadLease`, heartbeat every second) is final once
    /// the process has exited; the test polls for the reclaim with a generous bound and checks it came
    /// after that end. The rescuer holds a long lease, so a slow machine cannot make it lose the job to
    /// itself (attempt 3).
    /// SQLite-only: a worker process on the data directory's SQLite file; on PostgreSQL the same is
    /// PostgresProcessTests.aKilledWorkersJobIsRescuedAndFinishedByAnother.
    @Test(.enabled(if: SwejepaBinary.any != nil, "needs the built swejepa executable"))
    func aKilledWorkerProcessLosesItsJobToAnotherWorker() async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let store = try SQLiteStore(directory: dir)
        let deadLease = 6.0
        let job = try await store.createJob(type: "sleep", params: ["seconds": 2, "steps": 40, "hold_after_step": 1], maxAttempts: 3)
        let process = Process()
        process.executableURL = SwejepaBinary.any!
        process.arguments = ["worker", "--data", dir.path, "--lease", "\(deadLease)", "--types", "sleep"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Parked after step 1: exactly two steps reported, then nothing until the release file exists.
        #expect(try await eventually(120) { try await store.jobMetrics(job: job.id, name: "step", afterStep: nil).count >= 2 })
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let stepsBefore = try await store.jobMetrics(job: job.id, name: "step", afterStep: nil).count
        #expect(stepsBefore == 2)
        let held = try #require(try await store.job(id: job.id))
        #expect(held.state == .running && held.attempt == 1)  // still marked: nobody knows yet
        let diagnostics = dir.appendingPathComponent("diagnostics")
        try FileManager.default.createDirectory(at: diagnostics, withIntermediateDirectories: true)
        try Data().write(to: diagnostics.appendingPathComponent("sleep-\(job.id).release"))
        let leaseEnd = try #require(held.leaseExpiresAt)

        // The rescuer starts at once; it must leave the job alone until the dead lease has run out.
        let rescuer = try makeRunner(dir, lease: 30, name: "rescuer")
        rescuer.start()
        #expect(try await eventually(deadLease + 120) { try await store.job(id: job.id)?.state == .succeeded })
        await rescuer.stop()
        let done = try #require(try await store.job(id: job.id))
        #expect(done.attempt == 2 && done.worker?.hasPrefix("rescuer") == true, "attempt \(done.attempt) on \(done.worker ?? "-")")
        // The rescuer's attempt began (its first log line) only after the dead worker's lease ended.
        let logs = try await store.jobLogs(job: job.id, afterID: nil, limit: 10_000)
        let claimed = try #require(logs.first { $0.message.hasPrefix("attempt 2 ") })
        #expect(claimed.at >= leaseEnd, "claimed at \(claimed.at), lease ran to \(leaseEnd)")
        #expect(done.result?["resumed_after"]?.intValue == stepsBefore - 1)
        // Every step ran exactly once across both workers.
        #expect(try await store.jobMetrics(job: job.id, name: "step", afterStep: nil).map(\.step) == Array(0..<40))
    }
}
