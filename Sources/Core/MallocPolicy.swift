#if canImport(CMalloc)
import CMalloc
#endif
import Foundation

/// How a long-running process asks glibc's malloc to give large blocks back.
///
/// By default glibc raises its mmap threshold each time a large mmapped block is freed (up to 32 MiB);
/// from then on blocks of that size come from the malloc arenas and, once freed, mostly stay in the
/// process's RSS. A server that allocates large temporaries now and then (FAISS search buffers, request
/// bodies, whole-space reads) creeps up that way. Fixed thresholds turn the adjustment off: blocks of
/// `bytes` and more are mmapped and returned to the system when freed, and free memory above `bytes` at
/// the arena's top is given back. Measured with `scripts/soak.py`
/// (5 min, two servers side by side): RSS 124.7 vs 155.7 MiB at the end (docs/benchmarks.md, Soak).
/// `MALLOC_MMAP_THRESHOLD_` in the environment wins (glibc reads it at start; this then changes nothing).
///
/// ```swift
/// MallocPolicy.returnLargeBlocks()   // first thing in `swejepa serve` and `swejepa worker`
/// ```
public enum MallocPolicy {
    public static let defaultThreshold: Int32 = 1 << 20

    /// Fixes the mmap threshold at `bytes` unless the environment sets one; false when not applied.
    @discardableResult
    public static func returnLargeBlocks(bytes: Int32 = defaultThreshold) -> Bool {
        #if canImport(CMalloc)
        guard ProcessInfo.processInfo.environment["MALLOC_MMAP_THRESHOLD_"] == nil else { return false }
        // Both: a fixed mmap threshold alone leaves the trim threshold wherever the dynamic rule had
        // raised it (twice the largest freed block), and the arena's free top would stay mapped.
        return mallopt(M_MMAP_THRESHOLD, bytes) == 1 && mallopt(M_TRIM_THRESHOLD, bytes) == 1
        #else
        return false
        #endif
    }

    /// What malloc holds, from glibc's `mallinfo2` (all arenas): bytes handed out and live, bytes free
    /// inside the arenas (kept, not returned), bytes in mmapped blocks. Nil where glibc's malloc is not in use.
    public struct Usage: Sendable, Equatable {
        public var inUse: Int
        public var freeInArenas: Int
        public var mmapped: Int
    }

    public static func usage() -> Usage? {
        #if canImport(CMalloc)
        let m = mallinfo2()
        return Usage(inUse: Int(m.uordblks) + Int(m.hblkhd), freeInArenas: Int(m.fordblks), mmapped: Int(m.hblkhd))
        #else
        return nil
        #endif
    }
}
