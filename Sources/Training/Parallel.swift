import CBLAS
import Dispatch

/// Splits loops over the OpenBLAS thread count (llm.c uses OpenMP the same way). Every partition
/// writes disjoint memory and reductions combine per-part results in a fixed order, so results are
/// deterministic for a given thread count; element-wise ops give identical results for any count.
enum Parallel {
    /// Number of worker threads: OpenBLAS's setting.
    static var threads: Int { max(1, Int(openblas_get_num_threads())) }

    /// Calls `body(range)` on contiguous ranges covering 0..<count, in parallel when the work is
    /// large enough (`minChunk` elements per part at least).
    @inline(__always)
    static func ranges(_ count: Int, minChunk: Int, _ body: (Range<Int>) -> Void) {
        let parts = min(threads, count / max(minChunk, 1))
        if parts <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { b in
            let box = UncheckedBox(b)
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                box.value((count * p / parts)..<(count * (p + 1) / parts))
            }
        }
    }

    /// Runs `body(part, range)` for a fixed number of parts (for per-part reductions).
    static func parts(_ count: Int, minChunk: Int) -> Int { max(1, min(threads, count / max(minChunk, 1))) }

    static func each(_ parts: Int, _ count: Int, _ body: (Int, Range<Int>) -> Void) {
        if parts <= 1 { body(0, 0..<count); return }
        withoutActuallyEscaping(body) { b in
            let box = UncheckedBox(b)
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                box.value(p, (count * p / parts)..<(count * (p + 1) / parts))
            }
        }
    }
}

/// Carries a closure over raw buffers into `concurrentPerform`; callers guarantee the parts touch
/// disjoint memory.
struct UncheckedBox<V>: @unchecked Sendable {
    let value: V
    init(_ v: V) { value = v }
}
