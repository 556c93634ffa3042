import Core
import Testing

/// `waitForAll`: true once every task ended, false when one outlives the bound (left running).
@Suite struct WaitForAllTests {
    @Test func trueWhenEveryTaskEnds() async {
        let tasks = (0..<5).map { i in Task { for _ in 0..<i { await Task.yield() } } }
        #expect(await waitForAll(tasks, upTo: 600))
        #expect(await waitForAll([], upTo: 0))
    }

    @Test func falseWhenATaskOutlivesTheBound() async {
        // Ends only when cancelled: it cannot end within the bound, however the machine is loaded.
        let stuck = Task { while !Task.isCancelled { try? await Task.sleep(nanoseconds: 10_000_000) } }
        #expect(await waitForAll([Task {}, stuck], upTo: 0.05) == false)
        #expect(!stuck.isCancelled)  // the wait does not cancel what it waited for
        stuck.cancel()
        #expect(await waitForAll([stuck], upTo: 600))
    }
}
