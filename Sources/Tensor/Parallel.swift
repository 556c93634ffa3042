import Core
import Foundation

/// The package's parallel-for over contiguous ranges, on Core's `ParallelFor` (llm.c uses OpenMP the same
/// way). Every part writes disjoint memory and reductions combine per-part results in a fixed
/// order, so results are deterministic for a given part count.
///
/// ```swift
/// Parallel.ranges(n, minChunk: 1 << 15) { r in for i in r { y[i] = x[i] * 2 } }
/// let parts = Parallel.parts(n, minChunk: 64)
/// Parallel.each(parts, n) { part, r in partial[part] = r.reduce(0) { $0 + x[$1] } }
/// ```
public enum Parallel {
    /// Default number of parts: OpenBLAS's thread setting (so `BLAS.threads` controls both).
    public static var threads: Int { max(1, BLAS.threads) }
    /// Active processor count.
    public static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Parts for `count` items with at least `minChunk` per part and at most `maxParts` (≥ 1).
    @inline(__always)
    public static func parts(_ count: Int, minChunk: Int, maxParts: Int = threads) -> Int {
        max(1, min(maxParts, count / max(minChunk, 1)))
    }

    /// Calls `body(range)` on contiguous ranges covering 0..<count, in parallel when the work is
    /// large enough (`minChunk` items per part at least, `maxParts` parts at most).
    @inline(__always)
    public static func ranges(_ count: Int, minChunk: Int, maxParts: Int = threads, _ body: (Range<Int>) -> Void) {
        each(parts(count, minChunk: minChunk, maxParts: maxParts), count) { _, r in body(r) }
    }

    /// Runs `body(part, range)` for `parts` contiguous ranges covering 0..<count (part p gets
    /// count·p/parts ..< count·(p+1)/parts), serially when `parts` ≤ 1.
    public static func each(_ parts: Int, _ count: Int, _ body: (Int, Range<Int>) -> Void) {
        if parts <= 1 { body(0, 0..<count); return }
        perform(parts) { p in body(p, (count * p / parts)..<(count * (p + 1) / parts)) }
    }

    /// Runs `body(0) … body(iterations - 1)` concurrently (Core's `ParallelFor`): callers
    /// guarantee iterations touch disjoint memory.
    @inline(__always)
    public static func perform(_ iterations: Int, _ body: (Int) -> Void) {
        ParallelFor.perform(iterations, body)
    }
}
