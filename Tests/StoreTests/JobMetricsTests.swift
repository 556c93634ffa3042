import Core
import Foundation
import TestSupport
import Testing
@testable import Store

/// The job metric series as a follower reads it: by sequence number, only what is new.
@Suite struct JobMetricsTests {
    @Test(arguments: Backend.all) func afterSequenceReturnsOnlyNewPointsInRecordingOrder(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let job = try await store.createJob(type: "sleep", params: .object([:]), maxAttempts: 1)
        let other = try await store.createJob(type: "sleep", params: .object([:]), maxAttempts: 1)
        // Recorded out of (name, step) order on purpose: a follower must see recording order.
        try await store.addMetrics(job: job.id, [JobMetric(step: 5, name: "b", value: 1), JobMetric(step: 1, name: "a", value: 2)])
        try await store.addMetrics(job: other.id, [JobMetric(step: 0, name: "a", value: 9)])
        let first = try await store.jobMetrics(job: job.id, afterSequence: 0, limit: 100)
        #expect(first.map(\.metric.name) == ["b", "a"])
        #expect(first.map(\.metric.value) == [1, 2])
        #expect(first[0].sequence < first[1].sequence)
        // Nothing new: nothing returned.
        #expect(try await store.jobMetrics(job: job.id, afterSequence: first[1].sequence, limit: 100).isEmpty)
        try await store.addMetrics(job: job.id, [JobMetric(step: 6, name: "b", value: 3), JobMetric(step: 2, name: "a", value: 4),
                                                 JobMetric(step: 7, name: "b", value: 5)])
        let next = try await store.jobMetrics(job: job.id, afterSequence: first[1].sequence, limit: 2)
        #expect(next.map(\.metric.value) == [3, 4])
        let rest = try await store.jobMetrics(job: job.id, afterSequence: next[1].sequence, limit: 2)
        #expect(rest.map(\.metric.value) == [5])
        // The other job's point never shows up.
        #expect(try await store.jobMetrics(job: other.id, afterSequence: 0, limit: 100).map(\.metric.value) == [9])
    }

    @Test(arguments: Backend.all) func jobTextWithNULIsStored(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let job = try await store.createJob(type: "sleep", params: ["note": "a\u{0}b"], maxAttempts: 1)
        _ = try #require(try await store.claimJob(worker: "w", types: ["sleep"], leaseSeconds: 60))
        try await store.updateProgress(job: job.id, worker: "w", progress: 0.5, message: "step\u{0}1")
        try await store.addLog(job: job.id, level: .info, message: "line\u{0}1")
        #expect(try await store.finishJob(job: job.id, worker: "w", state: .failed, result: ["x": "y\u{0}z"], error: "bad\u{0}byte"))
        let back = try #require(try await store.job(id: job.id))
        // JSON keeps it exactly (escaped); free text keeps it on SQLite and shows U+FFFD on PostgreSQL.
        #expect(back.params == ["note": "a\u{0}b"] && back.result == ["x": "y\u{0}z"])
        let nul = backend == .sqlite ? "\u{0}" : "\u{FFFD}"
        #expect(back.error == "bad\(nul)byte" && back.message == "step\(nul)1")
        #expect(try await store.jobLogs(job: job.id, afterID: nil, limit: 10).map(\.message) == ["line\(nul)1"])
    }
}
