import Core
import Foundation
import Testing

/// Runs a suite's tests on two threads of their own instead of Swift's cooperative pool.
///
/// The cooperative pool has one thread per core (two here) and every async test shares it. A
/// synchronous, CPU-bound test (a BERT forward pass, a probe, a training run, the standard-library
/// extraction) holds one of those threads until it ends, so a few of them at once starve every async
/// test — a job runner claiming its job, a server answering — for minutes on a loaded machine, and
/// generous-looking waits run out. (An `OperationQueue` would not do: it draws on Dispatch's pool,
/// which the store's queues and URLSession need.) Suites marked `.ownThreads` run their bodies on
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

/// The threads behind `.ownThreads`: two of their own (a `ThreadPool`), outside both the cooperative
/// pool and Dispatch's (which the store's queues and URLSession use); jobs wait their turn in order.
public enum TestThreads {
    public static let executor = ThreadPool(name: "swejepa.tests.own-threads", threads: 2)
}
