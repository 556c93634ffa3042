/// Scores as scikit-learn computes them.
///
/// ```swift
/// let r2 = Metrics.r2(truth: [1, 2, 3], predicted: [1.1, 1.9, 3.2])
/// let bacc = Metrics.balancedAccuracy(truth: [0, 0, 1], predicted: [0, 1, 1])   // 0.75
/// ```
public enum Metrics {
    /// Coefficient of determination, `sklearn.metrics.r2_score` (force_finite: a constant truth
    /// scores 1 when predicted exactly, else 0).
    public static func r2(truth: [Double], predicted: [Double]) -> Double {
        precondition(truth.count == predicted.count, "r2: lengths differ")
        guard !truth.isEmpty else { return .nan }
        let mean = truth.reduce(0, +) / Double(truth.count)
        var ssRes = 0.0, ssTot = 0.0
        for i in 0..<truth.count {
            ssRes += (truth[i] - predicted[i]) * (truth[i] - predicted[i])
            ssTot += (truth[i] - mean) * (truth[i] - mean)
        }
        if ssTot == 0 { return ssRes == 0 ? 1 : 0 }
        return 1 - ssRes / ssTot
    }

    /// Mean per-class recall over the classes present in `truth`,
    /// `sklearn.metrics.balanced_accuracy_score` (adjusted = false).
    public static func balancedAccuracy(truth: [Int], predicted: [Int]) -> Double {
        precondition(truth.count == predicted.count, "balancedAccuracy: lengths differ")
        var total: [Int: Int] = [:], hit: [Int: Int] = [:]
        for (t, p) in zip(truth, predicted) {
            total[t, default: 0] += 1
            if t == p { hit[t, default: 0] += 1 }
        }
        guard !total.isEmpty else { return .nan }
        let recalls = total.keys.sorted().map { Double(hit[$0] ?? 0) / Double(total[$0]!) }
        return recalls.reduce(0, +) / Double(recalls.count)
    }
}
