import Foundation
import Testing

/// Runs a suite's tests on two threads of their own instead of Swift's cooperative pool.
///
/// The cooperative pool has one thread per core (two here) and every async test shares it. A
/// synchronous, CPU-bound test (a BERT forward pass, a probe, a training run, the standard-library
/// extraction) holds one of those threads until it ends, so a few of them at once starve every async
/// test — a job runner claiming its job, a server answering — for minutes on a loaded machine, and
/// generous-looking waits run out. Suites marked `.ownThreads` run their bodies on
/// `TestThreads.executor` instead: at most two at a time, FIFO, leaving the pool to the async tests.
///
/// ```swift
/// @Suite(.ownThreads) struct ProbeTests { @Test func ridge() throws { … } }
/// ```
public struct OwnThreads: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        guard testCase != nil else { return try await function() }  // the suite itself: nothing to run
        try await withTaskExecutorPreference(TestThreads.executor) { try await function() }
    }
}

extension Trait where Self == OwnThreads {
    /// See `OwnThreads`.
    public static var ownThreads: OwnThreads { OwnThreads() }
}

/// The task executor behind `.ownThreads`: an operation queue of two threads, outside the
/// cooperative pool (jobs wait their turn in order).
public final class TestThreads: TaskExecutor, @unchecked Sendable {
    public static let executor = TestThreads(threads: 2)
    private let queue: OperationQueue

    init(threads: Int) {
        queue = OperationQueue()
        queue.name = "swejepa.tests.own-threads"
        queue.maxConcurrentOperationCount = threads
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.addOperation { job.runSynchronously(on: executor) }
    }
}
