import Core

/// Deterministic vectors in [-1, 1) from a seeded SplitMix64 (n rows of d components).
public func seededVectors(_ n: Int, _ d: Int, seed: UInt64) -> [[Float]] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in (0..<d).map { _ in Float(rng.next() % 2000) / 1000 - 1 } }
}
