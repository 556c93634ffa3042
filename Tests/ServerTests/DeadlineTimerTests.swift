import Foundation
@testable import Server
import Testing

/// `DeadlineTimer` (issue 12, the soak's RSS growth): a wait ends at its deadline, never before; a
/// cancelled wait returns at once and leaves no waiter behind (`Task.sleep` kept each cancelled sleep
/// until its deadline); a short deadline registered behind a long one still fires. Each test uses a
/// timer of its own, so other suites' servers do not count in `pending`.
@Suite struct DeadlineTimerTests {
    @Test(.timeLimit(.minutes(1)))
    func aWaitEndsAtItsDeadlineNotBefore() async {
        let timer = DeadlineTimer()
        let start = ContinuousClock.now
        let expired = await timer.wait(until: start + .milliseconds(200))
        #expect(expired)
        #expect(ContinuousClock.now - start >= .milliseconds(200))
        #expect(timer.pending == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func cancelledWaitsReturnAtOnceAndLeaveNothingBehind() async throws {
        let timer = DeadlineTimer()
        let n = 5_000
        let tasks = (0..<n).map { _ in Task { await timer.wait(until: .now + .seconds(600)) } }
        var waited = 0
        while timer.pending < n && waited < 3_000 {   // registered (≤ 30 s)
            try await Task.sleep(nanoseconds: 10_000_000)
            waited += 1
        }
        #expect(timer.pending == n)
        for t in tasks { t.cancel() }
        var results: [Bool] = []
        for t in tasks { results.append(await t.value) }
        #expect(results.allSatisfy { !$0 }, "a cancelled wait reported its deadline")
        #expect(timer.pending == 0, "\(timer.pending) cancelled waits are still held")
        // A task cancelled before it waits returns at once too.
        let early = Task { () -> Bool in
            while !Task.isCancelled { await Task.yield() }
            return await timer.wait(until: .now + .seconds(600))
        }
        early.cancel()
        #expect(await early.value == false)
        #expect(timer.pending == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func aShortDeadlineBehindALongOneStillFires() async throws {
        let timer = DeadlineTimer()
        let long = Task { await timer.wait(until: .now + .seconds(600)) }
        while timer.pending < 1 { try await Task.sleep(nanoseconds: 5_000_000) }
        // The timer thread now sleeps until the long deadline; these must wake it.
        let shortOnes = (0..<20).map { i in Task { await timer.wait(until: .now + .milliseconds(50 + 10 * (19 - i))) } }
        for s in shortOnes { #expect(await s.value) }
        #expect(timer.pending == 1)
        long.cancel()
        #expect(await long.value == false)
        #expect(timer.pending == 0)
    }
}
