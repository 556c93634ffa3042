import Foundation

/// Waits bounded by a deadline that leave nothing behind once they are cancelled.
///
/// Every request races its handler against a timeout, and every socket wait against a deadline. With
/// `Task.sleep` for those, a sleep cancelled early keeps its task and its timer job alive until the
/// deadline it was given (swiftlang/swift#60441, still so in Swift 6.3 on Linux): at 600 s request
/// timeouts that held ~1 KiB per request for ten minutes, the steady RSS growth of `make soak`
/// (`heaptrack`: 362k task allocations and 106k `Task.sleep` timers alive at exit after 52k requests).
/// Here one thread keeps the pending deadlines, sleeps on a condition until the earliest one, and
/// resumes each waiter when its deadline passes; a cancelled wait is removed and resumed at once.
///
/// ```swift
/// let expired = await DeadlineTimer.shared.wait(until: .now + .seconds(30))
/// // true: the deadline passed; false: the calling task was cancelled first (returned at once)
/// ```
///
/// Thread rules: `wait` may be called from any task; the waiter table lives behind the condition's
/// lock and the timer thread resumes continuations outside it.
final class DeadlineTimer: @unchecked Sendable {
    /// The process's timer (its thread starts with the first wait).
    static let shared = DeadlineTimer()

    private struct Waiter {
        let deadline: ContinuousClock.Instant
        let continuation: UnsafeContinuation<Bool, Never>
    }

    private let condition = NSCondition()
    private var waiters: [UInt64: Waiter] = [:]
    private var nextID: UInt64 = 0
    /// The deadline the timer thread sleeps until (nil: no thread yet, or it waits for work).
    private var sleepingUntil: ContinuousClock.Instant?
    private var started = false

    /// Waits that are neither expired nor cancelled.
    var pending: Int { condition.withLock { waiters.count } }

    /// Suspends until `deadline` (true) or until the calling task is cancelled (false, at once).
    func wait(until deadline: ContinuousClock.Instant) async -> Bool {
        let id = condition.withLock { () -> UInt64 in
            nextID &+= 1
            return nextID
        }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<Bool, Never>) in
                condition.lock()
                // Cancelled before the waiter was registered: the handler below found nothing to remove.
                if Task.isCancelled {
                    condition.unlock()
                    c.resume(returning: false)
                    return
                }
                waiters[id] = Waiter(deadline: deadline, continuation: c)
                if !started {
                    started = true
                    // The thread keeps its timer for the life of the process (run() never returns).
                    let t = Thread { self.run() }
                    t.name = "swejepa.deadlines"
                    t.start()
                } else if let s = sleepingUntil, deadline >= s {
                    // The thread wakes before this deadline anyway.
                } else {
                    condition.signal()
                }
                condition.unlock()
            }
        } onCancel: {
            let waiter = condition.withLock { waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(returning: false)
        }
    }

    private func run() {
        condition.lock()
        while true {
            let now = ContinuousClock.now
            var due: [UnsafeContinuation<Bool, Never>] = []
            var earliest: ContinuousClock.Instant?
            for (id, w) in waiters {
                if w.deadline <= now {
                    due.append(w.continuation)
                    waiters[id] = nil
                } else if earliest.map({ w.deadline < $0 }) ?? true {
                    earliest = w.deadline
                }
            }
            if !due.isEmpty {
                condition.unlock()
                for c in due { c.resume(returning: true) }
                condition.lock()
                continue
            }
            sleepingUntil = earliest
            if let earliest {
                let c = (earliest - now).components
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(c.seconds) + Double(c.attoseconds) * 1e-18))
            } else {
                condition.wait()
            }
            sleepingUntil = nil
        }
    }
}
