import Dispatch

/// The package's one way to run a loop body on several threads at once (`Tensor.Parallel` adds
/// contiguous ranges and the BLAS thread policy on top; `CorpusScanner` strides files over it).
/// Iterations must touch disjoint memory; the call returns when every iteration has.
///
/// ```swift
/// var partial = [Double](repeating: 0, count: 4)
/// partial.withUnsafeMutableBufferPointer { out in
///     let box = UncheckedBox(out)
///     ParallelFor.perform(4) { i in box.value[i] = Double(i) }
/// }
/// ```
public enum ParallelFor {
    /// Runs `body(0) … body(iterations - 1)` concurrently (serially for one iteration). `body` need
    /// not be `Sendable`: callers guarantee iterations touch disjoint memory or synchronise.
    public static func perform(_ iterations: Int, _ body: (Int) -> Void) {
        if iterations <= 1 {
            if iterations == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedBox(escapable)
            DispatchQueue.concurrentPerform(iterations: iterations) { box.value($0) }
        }
    }
}

/// Carries a value (a closure over raw buffers, a pointer) across a concurrency boundary the
/// compiler cannot check; the user guarantees the concurrent uses touch disjoint memory.
///
/// ```swift
/// let box = UncheckedBox(pointer)
/// ParallelFor.perform(4) { i in box.value[i] = 0 }
/// ```
// Safe only as the doc above says: the caller guarantees concurrent uses touch disjoint memory.
public struct UncheckedBox<V>: @unchecked Sendable {
    public let value: V
    public init(_ value: V) { self.value = value }
}
