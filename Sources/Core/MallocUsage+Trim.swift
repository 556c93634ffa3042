import Foundation
#if canImport(CMalloc)
import CMalloc
#endif

/// Process-wide trim counts (malloc's arenas are process-wide too), for `/metrics`.
private let trimTotals = Mutex(MallocUsage.TrimCounts())

extension MallocUsage {
    /// How often memory was handed back and how much resident memory that released.
    public struct TrimCounts: Sendable, Equatable {
        public var trims = 0
        public var releasedBytes = 0
    }

    /// `malloc_trim(0)`: returns the free pages of every arena to the system (glibc madvises whole
    /// free pages inside the arenas, not only the top), and counts the anonymous resident bytes released.
    /// Safe from any thread; takes each arena's lock in turn, a few milliseconds for ~100 MiB free.
    @discardableResult
    public static func trim() -> Int {
        #if canImport(CMalloc)
        let before = residentBytes()
        malloc_trim(0)
        let released = max(0, before - residentBytes())
        trimTotals.withLock { $0.trims += 1; $0.releasedBytes += released }
        return released
        #else
        return 0
        #endif
    }

    public static func trimCounts() -> TrimCounts { trimTotals.withLock { $0 } }

    /// Caps glibc's arenas (`mallopt(M_ARENA_MAX, n)`; glibc's own default is 8 per core). Each thread
    /// that meets contention gets an arena of its own, and each arena keeps its own high-water mark of
    /// freed memory: a server's many threads (requests, SQLite readers, pools) then hold many peaks.
    /// Call before the threads start; returns false where glibc's malloc is not in use or refuses.
    @discardableResult
    public static func limitArenas(to n: Int) -> Bool {
        #if canImport(CMalloc)
        guard n > 0 else { return false }
        return mallopt(M_ARENA_MAX, Int32(clamping: n)) == 1
        #else
        return false
        #endif
    }

    /// Anonymous resident memory (`RssAnon` of /proc/self/status: the heap, not mapped files such as a
    /// model or the database), 0 where it cannot be read.
    public static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
              let kib = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return kib << 10
    }
}

/// Hands memory that malloc keeps after frees back to the system every `interval` seconds, when the
/// arenas hold at least `threshold` free bytes. A server's requests and jobs allocate and free
/// multi-MiB buffers on many threads; glibc keeps each arena's high-water mark, and as more arenas
/// see a peak the resident size creeps up although the live heap stays level (the soak in
/// docs/benchmarks.md: live 13–37 MiB, free but kept 140–165 MiB, RSS rising ~4 MiB a minute).
///
/// ```swift
/// let trimmer = MallocTrimmer(interval: 10)   // serve / worker
/// defer { trimmer.stop() }
/// ```
public final class MallocTrimmer: Sendable {
    private let stopped = Mutex(false)
    private let count = Mutex(0)
    private let wake = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    /// Starts the trimming thread; `interval <= 0` starts nothing (then `stop()` does nothing).
    public init(interval: Double, threshold: Int = 16 << 20) {
        guard interval > 0, MallocUsage.usage() != nil else {
            stopped.withLock { $0 = true }
            done.signal()
            return
        }
        let thread = Thread { [stopped, count, wake, done] in
            while wake.wait(timeout: .now() + interval) == .timedOut {
                if stopped.withLock({ $0 }) { break }
                if let u = MallocUsage.usage(), u.freeInArenas >= threshold {
                    MallocUsage.trim()
                    count.withLock { $0 += 1 }
                }
            }
            done.signal()
        }
        thread.name = "swejepa.malloc-trim"
        thread.start()
    }

    /// Trims this trimmer has made.
    public var trims: Int { count.withLock { $0 } }

    /// Stops the thread and waits for it (at most one trim's time).
    public func stop() {
        let first = stopped.withLock { was in
            defer { was = true }
            return !was
        }
        if first { wake.signal() }
        done.wait()
        done.signal()  // later calls return at once
    }
}
