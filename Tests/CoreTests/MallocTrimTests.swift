import Core
import Foundation
import Testing

/// `MallocUsage.trim` and `MallocTrimmer` on glibc's real malloc: memory freed inside an arena stays
/// resident until it is trimmed. Serialized: a trimmer running beside the explicit trim would release
/// the freed blocks first (the trims are process-wide).
@Suite(.serialized) struct MallocTrimTests {
    /// 64 MiB in 64 KiB blocks (below glibc's mmap threshold, so they live in an arena), written so
    /// their pages are resident, then freed but the last block (the arena's top is not free, so only
    /// trimming inside the arena can release the rest).
    static func allocateAndFreeInAnArena(blocks: Int = 1024, size: Int = 64 << 10) -> UnsafeMutableRawPointer? {
        var ptrs: [UnsafeMutableRawPointer] = []
        ptrs.reserveCapacity(blocks)
        for _ in 0..<blocks {
            guard let p = malloc(size) else { break }
            memset(p, 0x5a, size)
            ptrs.append(p)
        }
        let kept = ptrs.popLast()
        for p in ptrs { free(p) }
        return kept
    }

    @Test func trimReleasesFreedPagesInsideAnArena() throws {
        try #require(MallocUsage.usage() != nil, "glibc malloc")
        let before = MallocUsage.trimCounts()
        let kept = Self.allocateAndFreeInAnArena()
        defer { free(kept) }
        let freeKept = try #require(MallocUsage.usage()).freeInArenas
        #expect(freeKept >= 60 << 20, "the freed blocks are kept in the arena: \(freeKept) bytes free")
        let released = MallocUsage.trim()
        // Other tests run beside this one and may touch new pages meanwhile: ask for a quarter.
        #expect(released >= 16 << 20, "trim released \(released) resident bytes of 63 MiB freed")
        let after = MallocUsage.trimCounts()
        #expect(after.trims >= before.trims + 1)
        #expect(after.releasedBytes >= before.releasedBytes + released)
    }

    @Test func aTrimmerTrimsWhenTheArenasHoldEnoughFreeMemoryAndStops() async throws {
        try #require(MallocUsage.usage() != nil, "glibc malloc")
        let trimmer = MallocTrimmer(interval: 0.05, threshold: 1)
        let kept = Self.allocateAndFreeInAnArena(blocks: 64)
        defer { free(kept) }
        let deadline = Date().addingTimeInterval(10)
        while trimmer.trims == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(trimmer.trims > 0)
        trimmer.stop()
        let stopped = trimmer.trims
        try await Task.sleep(for: .milliseconds(200))
        #expect(trimmer.trims == stopped, "no trim after stop")
        trimmer.stop()  // a second stop returns at once
    }

    @Test func aTrimmerWithIntervalZeroNeverTrims() async throws {
        let trimmer = MallocTrimmer(interval: 0, threshold: 0)
        let kept = Self.allocateAndFreeInAnArena(blocks: 16)
        defer { free(kept) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(trimmer.trims == 0)
        trimmer.stop()
    }

    @Test func arenasCanBeCappedButNotToZero() throws {
        try #require(MallocUsage.usage() != nil, "glibc malloc")
        #expect(MallocUsage.limitArenas(to: 0) == false)
        #expect(MallocUsage.limitArenas(to: -3) == false)
        #expect(MallocUsage.limitArenas(to: 64))  // above glibc's default for this machine: changes nothing here
    }
}
