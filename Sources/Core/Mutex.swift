#if canImport(Glibc)
import Glibc
#endif

/// A value behind a lock, with the API of `Synchronization.Mutex` (`withLock`), on a heap-allocated
/// `pthread_mutex_t`. Every module uses this one instead of the standard library's.
///
/// Why: on Linux, `Synchronization.Mutex` keys its futex on the thread id, cached in a thread-local
/// that its inlined `withLock` reads. In an `async` function Swift 6.3 computed that thread-local's
/// address once, before an `await`, and used it after resuming on another thread: the lock was
/// taken under the first thread's id and released under the second's, which the kernel refuses
/// (`EPERM`) and the runtime turns into "Call to unlock Mutex on a thread which hasn't acquired the
/// lock" — a SIGILL of the release server under load (disassembly and the crash in
/// docs/architecture.md). glibc's `pthread_mutex_lock` reads the thread pointer itself, at the call.
///
/// ```swift
/// let count = Mutex(0)
/// count.withLock { $0 += 1 }
/// let now = count.withLock { $0 }
/// ```
public final class Mutex<Value>: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ initialValue: Value) {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_mutex_t())
        pthread_mutex_init(lock, nil)
        value = initialValue
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    /// Runs `body` with the value while holding the lock (not reentrant: never call `withLock` on
    /// the same mutex from `body`).
    public func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body(&value)
    }
}
