import Foundation
@testable import Training

/// An owned Double buffer for the finite-difference tests.
final class DBuf {
    let p: UnsafeMutablePointer<Double>
    let count: Int
    init(_ values: [Double]) {
        count = max(values.count, 1)
        p = .allocate(capacity: count)
        p.initialize(repeating: 0, count: count)
        p.update(from: values, count: values.count)
    }
    convenience init(zeros n: Int) { self.init([Double](repeating: 0, count: n)) }
    var array: [Double] { Array(UnsafeBufferPointer(start: p, count: count)) }
    deinit { p.deallocate() }
}

func randomValues(_ n: Int, _ rng: inout TrainingRNG, scale: Double = 1) -> [Double] {
    (0..<n).map { _ in rng.normal() * scale }
}

/// Largest elementwise relative error |a − n| / max(|a|, |n|, floor) between the analytic gradient
/// of `loss` w.r.t. the buffer `x` and Float64 central differences.
func finiteDifferenceError(_ x: UnsafeMutablePointer<Double>, count: Int, analytic: [Double],
                           h: Double = 1e-6, floor: Double = 1e-4, loss: () -> Double) -> Double {
    var worst = 0.0
    for i in 0..<count {
        let saved = x[i]
        x[i] = saved + h
        let lp = loss()
        x[i] = saved - h
        let lm = loss()
        x[i] = saved
        let numeric = (lp - lm) / (2 * h)
        let err = abs(analytic[i] - numeric) / max(abs(analytic[i]), abs(numeric), floor)
        worst = max(worst, err)
    }
    return worst
}

/// Σ g ⊙ y.
func dot(_ g: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double {
    var s = 0.0
    for i in 0..<n { s += g[i] * y[i] }
    return s
}
