import Core

/// Where CPU-bound work runs (teacher forward passes, training steps, probes, scans): the threads of
/// `ThreadPool.compute`, never Swift's cooperative pool (which serves HTTP) nor Dispatch's (which the
/// store and URLSession need).
///
/// ```swift
/// let vectors = try await Compute.run { try embedder.embed(texts: texts, layer: 6, pooling: .mean, normalize: true) }
/// ```
public enum Compute {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await ThreadPool.compute.run(body)
    }
}
