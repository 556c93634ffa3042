import Core
import Foundation
import Store
import Testing
import TestSupport

/// The JobStore operations of remote workers on both backends: remote-only jobs are left to
/// `claimRemoteJob`, and `failJob` re-queues, fails or cancels only for the holder.
@Suite struct RemoteJobStoreTests {
    @Test(arguments: Backend.all) func remoteOnlyJobsAndFailJob(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let remote = try await store.createJob(type: "embed", params: ["layers": [3], "remote": true], maxAttempts: 2)
        let marked = try await store.createJob(type: "embed", params: ["layers": [3], "remote": false], maxAttempts: 1)
        // A local claim skips the remote-only job and takes the next one.
        #expect(try await store.claimJob(worker: "local", types: [], leaseSeconds: 30)?.id == marked.id)
        #expect(try await store.claimJob(worker: "local", types: ["embed"], leaseSeconds: 30) == nil)
        let claimed = try #require(try await store.claimRemoteJob(worker: "remote:a", types: ["embed"], leaseSeconds: 30))
        #expect(claimed.id == remote.id && claimed.attempt == 1 && claimed.worker == "remote:a")

        // Only the holder's report counts.
        #expect(try await store.failJob(job: remote.id, worker: "remote:b", error: "x", retry: true) == nil)
        #expect(try await store.job(id: remote.id)?.state == .running)
        #expect(try await store.failJob(job: remote.id, worker: "remote:a", error: "oom", retry: true) == .queued)
        let queued = try #require(try await store.job(id: remote.id))
        #expect(queued.worker == nil && queued.attempt == 1 && queued.error == "oom" && queued.finishedAt == nil)
        #expect(try await store.failJob(job: remote.id, worker: "remote:a", error: "again", retry: true) == nil)
        // Attempt 2 of 2: a retry is a failure.
        #expect(try await store.claimRemoteJob(worker: "remote:a", types: ["embed"], leaseSeconds: 30)?.attempt == 2)
        #expect(try await store.failJob(job: remote.id, worker: "remote:a", error: "oom", retry: true) == .failed)
        #expect(try await store.job(id: remote.id)?.finishedAt != nil)

        // Cancel requested: the report ends the job cancelled, retry or not.
        let third = try await store.createJob(type: "sleep", params: .object([:]), maxAttempts: 3)
        _ = try #require(try await store.claimRemoteJob(worker: "remote:a", types: ["sleep"], leaseSeconds: 30))
        _ = try await store.requestCancel(job: third.id)
        #expect(try await store.failJob(job: third.id, worker: "remote:a", error: "stopped", retry: true) == .cancelled)
        // Without retry: failed at once, attempts left or not.
        let fourth = try await store.createJob(type: "sleep", params: .object([:]), maxAttempts: 3)
        _ = try #require(try await store.claimRemoteJob(worker: "remote:a", types: [], leaseSeconds: 30))
        #expect(try await store.failJob(job: fourth.id, worker: "remote:a", error: "bad", retry: false) == .failed)
    }
}
