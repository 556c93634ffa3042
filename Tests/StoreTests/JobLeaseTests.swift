import Core
import Foundation
import TestSupport
import Testing
@testable import Store

/// The job table's lease rules, the same on every backend: a claim takes the oldest queued job of
/// the asked types, an expired lease is re-queued (or failed past max_attempts, or cancelled when a
/// cancel was asked), a handed-back job keeps its attempt, and only the holder records an outcome.
@Suite struct JobLeaseTests {
    @Test(arguments: Backend.all) func leasesExpireRequeueAndFailPastMaxAttempts(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let other = try await store.createJob(type: "other", params: [:], maxAttempts: 1)
        let job = try await store.createJob(type: "sleep", params: ["seconds": 1], maxAttempts: 2)
        #expect(job.state == .queued && job.attempt == 0 && job.params == ["seconds": 1])
        // Claims with leases that run out at once: a worker dying each time.
        let first = try #require(try await store.claimJob(worker: "dead-1", types: ["sleep"], leaseSeconds: -1))
        #expect(first.id == job.id && first.attempt == 1 && first.worker == "dead-1" && first.startedAt != nil)
        let second = try #require(try await store.claimJob(worker: "dead-2", types: ["sleep"], leaseSeconds: -1))
        #expect(second.id == job.id && second.attempt == 2 && second.startedAt == first.startedAt)
        #expect(try await store.claimJob(worker: "w", types: ["sleep"], leaseSeconds: 30) == nil)
        let failed = try #require(try await store.job(id: job.id))
        #expect(failed.state == .failed && failed.error == "worker lost (lease expired) on attempt 2 of 2" && failed.worker == nil)
        #expect(try await store.finishJob(job: job.id, worker: "dead-2", state: .succeeded, result: nil, error: nil) == false)
        // The other type was never touched; no types means any type.
        #expect(try await store.job(id: other.id)?.state == .queued)
        #expect(try await store.claimJob(worker: "w", types: [], leaseSeconds: 30)?.id == other.id)
        let status = try await store.heartbeat(job: other.id, worker: "w", leaseSeconds: 30)
        #expect(status == LeaseStatus(held: true, cancelRequested: false))
        #expect(try await store.heartbeat(job: other.id, worker: "x", leaseSeconds: 30).held == false)
        try await store.updateProgress(job: other.id, worker: "w", progress: 2, message: "half")
        #expect(try await store.job(id: other.id)?.progress == 1)
        #expect(try await store.finishJob(job: other.id, worker: "w", state: .succeeded, result: ["ok": true], error: nil))
        let done = try #require(try await store.job(id: other.id))
        #expect(done.state == .succeeded && done.result == ["ok": true] && done.finishedAt != nil && done.leaseExpiresAt == nil)
        #expect(try await store.stats().jobs == ["failed": 1, "succeeded": 1])
    }

    @Test(arguments: Backend.all) func handedBackAndCancelledJobs(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let job = try await store.createJob(type: "sleep", params: [:], maxAttempts: 2)
        for round in 1...2 {
            let claimed = try #require(try await store.claimJob(worker: "w\(round)", types: [], leaseSeconds: 30))
            #expect(claimed.id == job.id && claimed.attempt == 1)
            #expect(try await store.releaseJob(job: job.id, worker: "someone-else") == false)
            #expect(try await store.releaseJob(job: job.id, worker: "w\(round)"))
            let back = try #require(try await store.job(id: job.id))
            #expect(back.state == .queued && back.attempt == 0 && back.worker == nil && back.leaseExpiresAt == nil, "\(back)")
        }
        // Cancel while running: the heartbeat says so; its expired lease (attempts left) ends it cancelled.
        _ = try #require(try await store.claimJob(worker: "w3", types: [], leaseSeconds: -1))
        #expect(try await store.requestCancel(job: job.id)?.cancelRequested == true)
        #expect(try await store.heartbeat(job: job.id, worker: "w3", leaseSeconds: -1) == LeaseStatus(held: true, cancelRequested: true))
        #expect(try await store.claimJob(worker: "w4", types: [], leaseSeconds: 30) == nil)
        let cancelled = try #require(try await store.job(id: job.id))
        #expect(cancelled.state == .cancelled && cancelled.finishedAt != nil, "\(cancelled)")
        // A queued job is cancelled at once; an unknown one is nil.
        let queued = try await store.createJob(type: "sleep", params: [:], maxAttempts: 1)
        #expect(try await store.requestCancel(job: queued.id)?.state == .cancelled)
        #expect(try await store.requestCancel(job: 999_999) == nil)
        #expect(try await store.jobs(state: .cancelled, type: "sleep", limit: 10).map(\.id) == [queued.id, job.id])
        #expect(try await store.jobs(state: nil, type: nil, limit: -1).count == 2)
    }
}
