import CMalloc
import Core
import Foundation
import Testing

/// `MallocPolicy.returnLargeBlocks()`: after a large block is freed, glibc would raise its mmap threshold
/// and serve the next large block from the arena (where it stays in RSS once freed); with the policy a
/// block of 1 MiB and more is still mmapped (`mallinfo2().hblks` counts it while it lives).
@Suite(.serialized) struct MallocPolicyTests {
    @Test func largeBlocksStayMmappedAfterALargerOneWasFreed() throws {
        #expect(MallocPolicy.returnLargeBlocks())
        // What would raise a dynamic threshold to 8 MiB.
        let big = try #require(malloc(8 << 20))
        memset(big, 1, 8 << 20)
        free(big)
        let before = mallinfo2().hblks
        let block = try #require(malloc(2 << 20))
        memset(block, 1, 2 << 20)
        let during = mallinfo2().hblks
        free(block)
        #expect(during == before + 1, "a 2 MiB block after a freed 8 MiB one was not mmapped (hblks \(before) → \(during))")
        #expect(mallinfo2().hblks == before)
        // And the arena does not keep the freed 8 MiB mapped: its size stays under 2 × the threshold
        // plus what other tests of this process hold live.
        #expect(mallinfo2().arena - mallinfo2().uordblks < 2 * Int(MallocPolicy.defaultThreshold), "\(mallinfo2())")
    }
}
