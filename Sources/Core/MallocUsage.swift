#if canImport(CMalloc)
import CMalloc
#endif

/// What glibc's malloc holds, for `/metrics` (`swejepa_malloc_bytes`) and `scripts/soak.py`: a soak whose
/// RSS grows can then tell live memory from freed memory malloc keeps in its arenas.
///
/// (Fixing glibc's mmap and trim thresholds with `mallopt` lowered the soak's RSS by ~30 MiB but not its
/// slope, and was not kept: docs/benchmarks.md, Soak.)
///
/// ```swift
/// if let u = MallocUsage.usage() { print(u.inUse, u.freeInArenas) }
/// ```
public enum MallocUsage {
    /// Bytes handed out and live (mmapped blocks included), bytes free inside the arenas (kept, not
    /// returned to the system), bytes in mmapped blocks.
    public struct Usage: Sendable, Equatable {
        public var inUse: Int
        public var freeInArenas: Int
        public var mmapped: Int
    }

    /// glibc's `mallinfo2` over all arenas; nil where glibc's malloc is not in use.
    public static func usage() -> Usage? {
        #if canImport(CMalloc)
        let m = mallinfo2()
        return Usage(inUse: Int(m.uordblks) + Int(m.hblkhd), freeInArenas: Int(m.fordblks), mmapped: Int(m.hblkhd))
        #else
        return nil
        #endif
    }
}
