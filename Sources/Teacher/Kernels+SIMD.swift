import Foundation

/// Vectorised math for the forward pass: erf-GELU and exp/softmax, 16 lanes
/// at a time (no per-element bounds checks, no libm calls in the hot loops).
extension Kernels {
    typealias V16 = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V16 { UnsafeRawPointer(p).loadUnaligned(as: V16.self) }

    @inline(__always)
    static func store(_ v: V16, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self) }

    /// erf(x) as a 13/8-degree rational function on [-4, 4] (Eigen's / XLA's float erf); |error| < 5e-7.
    @inline(__always)
    static func erf(_ a: V16) -> V16 {
        let x = a.replacing(with: 4, where: a .> 4).replacing(with: -4, where: a .< -4)
        let x2 = x * x
        var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08
        p = x2 * p + -2.10102402082508e-06
        p = x2 * p + -5.69250639462346e-05
        p = x2 * p + -7.34990630326855e-04
        p = x2 * p + -2.95459980854025e-03
        p = x2 * p + -1.60960333262415e-02
        p = x * p
        var q = x2 * -1.45660718464996e-05 + -2.13374055278905e-04
        q = x2 * q + -1.68282697438203e-03
        q = x2 * q + -7.37332916720468e-03
        q = x2 * q + -1.42647390514189e-02
        return p / q
    }

    /// exp(x) (Cephes expf polynomial, ~2 ulp); inputs below -87 give ≈ 0, above 88 are clamped.
    @inline(__always)
    static func exp(_ a: V16) -> V16 {
        // (replacing(with:where:) compiles to blends; pointwiseMin/Max and rounded() do not vectorise.)
        let x0 = a.replacing(with: 88.0, where: a .> 88.0).replacing(with: -87.0, where: a .< -87.0)
        // Round to nearest with the 1.5·2^23 trick; the integer then sits in the low mantissa bits.
        let shifted = x0 * 1.44269504088896341 + 12582912.0
        let n = shifted - 12582912.0
        var x = x0 - n * 0.693359375
        x = x - n * -2.12194440e-4
        let z = x * x
        var y = x * 1.9875691500e-4 + 1.3981999507e-3
        y = y * x + 8.3334519073e-3
        y = y * x + 4.1665795894e-2
        y = y * x + 1.6666665459e-1
        y = y * x + 5.0000001201e-1
        y = y * z + x + 1
        let bits = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return y * unsafeBitCast(bits, to: V16.self)
    }

    /// Scalar versions through the same code (tails of rows).
    @inline(__always)
    static func erf(_ x: Float) -> Float { erf(V16(repeating: x))[0] }
    @inline(__always)
    static func exp(_ x: Float) -> Float { exp(V16(repeating: x))[0] }

    /// h[j] = GELU(h[j] + bias[j]) for one row of n values.
    @inline(__always)
    static func geluRow(_ h: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, n: Int) {
        var j = 0
        while j + 16 <= n {
            let v = load(h + j) + load(bias + j)
            store(0.5 * v * (1 + erf(v * 0.70710678118654752)), h + j)
            j += 16
        }
        while j < n { let v = h[j] + bias[j]; h[j] = 0.5 * v * (1 + erf(v * 0.70710678118654752)); j += 1 }
    }

    /// Softmax of one row of n values, in place.
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, n: Int) {
        var m = -Float.infinity
        var j = 0
        var mv = V16(repeating: -.infinity)
        while j + 16 <= n { let r = load(row + j); mv = mv.replacing(with: r, where: r .> mv); j += 16 }
        m = mv.max()
        while j < n { m = max(m, row[j]); j += 1 }
        var sv = V16(repeating: 0)
        var sum: Float = 0
        j = 0
        while j + 16 <= n { let e = exp(load(row + j) - m); store(e, row + j); sv += e; j += 16 }
        sum = sv.sum()
        while j < n { let e = exp(row[j] - m); row[j] = e; sum += e; j += 1 }
        let inv = 1 / sum
        j = 0
        while j + 16 <= n { store(load(row + j) * inv, row + j); j += 16 }
        while j < n { row[j] *= inv; j += 1 }
    }
}
