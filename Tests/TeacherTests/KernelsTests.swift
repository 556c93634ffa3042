import Foundation
import Testing
import TestSupport
@testable import Teacher

/// The vectorised approximations against libm (Foundation's Double erf / exp).
@Suite(.ownThreads) struct KernelsTests {
    @Test func erfAndGeluMatchLibm() {
        var worstErf = 0.0, worstGelu = 0.0
        var x = -8.0
        while x <= 8.0 {
            worstErf = max(worstErf, abs(Double(Kernels.erf(Float(x))) - Foundation.erf(Double(Float(x)))))
            x += 0.001
        }
        // GELU over a row longer than one vector (exercises the SIMD body and the scalar tail).
        let n = 1000
        var h = (0..<n).map { Float($0 - 500) / 60 }
        let bias = [Float](repeating: 0.25, count: n)
        let input = h
        h.withUnsafeMutableBufferPointer { hp in bias.withUnsafeBufferPointer { Kernels.geluRow(hp.baseAddress!, $0.baseAddress!, n: n) } }
        for j in 0..<n {
            let v = Double(input[j]) + 0.25
            worstGelu = max(worstGelu, abs(Double(h[j]) - 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))))
        }
        #expect(worstErf < 1e-6)
        #expect(worstGelu < 1e-5)
    }

    @Test func expAndSoftmaxMatchLibm() {
        var worst = 0.0
        var x = -80.0
        while x <= 80.0 {
            let xf = Double(Float(x))  // compare on the float input itself
            let e = Double(Kernels.exp(Float(x)))
            worst = max(worst, abs(e - Foundation.exp(xf)) / Foundation.exp(xf))
            x += 0.01
        }
        #expect(worst < 1e-6)
        #expect(Kernels.exp(-200) < 1e-30)
        for n in [1, 7, 16, 33, 300] {
            var row = (0..<n).map { Float(($0 * 37) % 23) / 3 - 4 }
            let m = row.max()!
            let ref = row.map { Foundation.exp(Double($0 - m)) }
            let sum = ref.reduce(0, +)
            row.withUnsafeMutableBufferPointer { Kernels.softmaxRow($0.baseAddress!, n: n) }
            for j in 0..<n { #expect(abs(Double(row[j]) - ref[j] / sum) < 1e-6) }
        }
    }

    /// One attention head against a direct double-precision loop, incl. lengths split into row chunks.
    @Test func attentionHeadMatchesDirectComputation() {
        let dh = 20, ld = 3 * 40, ldo = 40
        for t in [1, 3, 16, 17, 45, 700] {  // 700: several row chunks
            var rng = SystemRandomNumberGenerator()
            let qkv = (0..<(t * ld)).map { _ in Float.random(in: -2...2, using: &rng) }
            var out = [Float](repeating: .nan, count: t * ldo)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Kernels.attentionChunk(t: t, dh: dh) * t)
            defer { scratch.deallocate() }
            let scale: Float = 0.3
            qkv.withUnsafeBufferPointer { p in
                out.withUnsafeMutableBufferPointer { o in
                    let q = p.baseAddress! + 5
                    Kernels.attentionHead(q: q, k: q + 40, v: q + 80, ld: ld, out: o.baseAddress! + 5, ldo: ldo,
                                          t: t, dh: dh, scale: scale, scores: scratch)
                }
            }
            for i in 0..<t {
                var s = (0..<t).map { j in (0..<dh).reduce(0.0) { $0 + Double(qkv[i * ld + 5 + $1]) * Double(qkv[j * ld + 45 + $1]) } * Double(scale) }
                let m = s.max()!
                s = s.map { Foundation.exp($0 - m) }
                let z = s.reduce(0, +)
                for c in 0..<dh {
                    let expected = (0..<t).reduce(0.0) { $0 + s[$1] / z * Double(qkv[$1 * ld + 85 + c]) }
                    #expect(abs(Double(out[i * ldo + 5 + c]) - expected) < 1e-4, "t \(t) row \(i) dim \(c)")
                }
                #expect(out[i * ldo + 4].isNaN && out[i * ldo + 25].isNaN)  // neighbours untouched
            }
        }
    }
}
