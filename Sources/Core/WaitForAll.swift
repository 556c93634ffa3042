/// Waits until every task in `tasks` has ended or `seconds` have passed, whichever comes first;
/// true when they all ended in time. The tasks are not cancelled: a bounded wait for a graceful stop.
///
/// ```swift
/// let done = await waitForAll([saver, server], upTo: 10)   // false: gave up after 10 s
/// ```
public func waitForAll(_ tasks: [Task<Void, Never>], upTo seconds: Double) async -> Bool {
    let once = ResumeOnce()
    var watchers: [Task<Void, Never>] = []
    let result = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
        once.set(c)
        watchers = [
            Task { for t in tasks { await t.value }; once.resume(true) },
            Task { try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1e9)); once.resume(false) },
        ]
    }
    for w in watchers { w.cancel() }  // the other watcher: stop sleeping or waiting
    return result
}

/// A continuation resumed once, by whichever watcher comes first.
private final class ResumeOnce: Sendable {
    private let slot = Mutex<CheckedContinuation<Bool, Never>?>(nil)
    func set(_ c: CheckedContinuation<Bool, Never>) { slot.withLock { $0 = c } }
    func resume(_ value: Bool) { slot.withLock { c in c.take() }?.resume(returning: value) }
}
