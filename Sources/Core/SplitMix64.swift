/// SplitMix64 (Steele, Lea & Flood 2014): a tiny seeded generator whose stream is easy to
/// reproduce in any language (scripts/reference/analysis_sklearn.py does so in Python).
///
/// ```swift
/// let perm = SplitMix64.permutation(count: 5, seed: 42)   // same on every platform
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) from the top 53 bits.
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Fisher–Yates from the end with j = next() % (i + 1) (the modulo bias, below 2⁻³², is
    /// accepted so that the permutation is trivially reproducible).
    public static func permutation(count n: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        var perm = Array(0..<n)
        var i = n - 1
        while i > 0 {
            let j = Int(rng.next() % UInt64(i + 1))
            perm.swapAt(i, j)
            i -= 1
        }
        return perm
    }
}
