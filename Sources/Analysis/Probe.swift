import Core
import Foundation

/// Options of a linear probe.
public struct ProbeOptions: Codable, Sendable, Equatable {
    /// Outer folds (GroupKFold).
    public var folds: Int
    /// Ridge penalty grid searched by leave-one-out inside each training fold.
    public var alphas: [Double]
    /// Logistic inverse regularisation strength.
    public var c: Double
    /// Seed of the shuffled-label control's permutation.
    public var shuffleSeed: UInt64
    /// Logistic solver: relative gradient tolerance and Newton iterations.
    public var tolerance: Double
    public var maxIterations: Int

    public init(folds: Int = 5, alphas: [Double] = Probe.defaultAlphas, c: Double = 1,
                shuffleSeed: UInt64 = 0, tolerance: Double = 1e-10, maxIterations: Int = 100) {
        self.folds = folds; self.alphas = alphas; self.c = c; self.shuffleSeed = shuffleSeed
        self.tolerance = tolerance; self.maxIterations = maxIterations
    }
}

/// Linear probes with grouped cross-validation and controls.
///
/// Protocol: outer `GroupKFold` over the groups (repository or function) so that no group is on
/// both sides; inside each training fold a `StandardScaler` is fitted, then either `RidgeCV`
/// (alpha from `options.alphas` by leave-one-out on the training fold) scored by R², or
/// balanced logistic regression scored by balanced accuracy on the held-out fold. The same is
/// repeated with labels permuted (seeded) and with the single trivial feature.
///
/// ```swift
/// let result = try Probe.run(target: "loc", features: vectors, count: n, dims: 384,
///                            labels: .regression(try ProbeTargets.log1p(counts: loc)),
///                            groups: repoIds, trivial: tokenCounts)
/// print(result.mean, result.std, result.controls.shuffled.mean)
/// ```
/// `progress(fraction, message)` is called after each of the 3 × folds fits (probe, shuffled,
/// trivial); throwing from it (e.g. on cancel) aborts the probe with that error.
public enum Probe {
    /// 10^-2 … 10^6 in half decades.
    public static let defaultAlphas: [Double] = (0...16).map { pow10(-2 + Double($0) / 2) }

    public static func run<G: Hashable & Comparable>(
        target: String, features: [Float], count n: Int, dims d: Int, labels: ProbeLabels,
        groups: [G], trivial: [Double], options: ProbeOptions = ProbeOptions(),
        progress: ((Double, String) throws -> Void)? = nil
    ) throws -> ProbeResult {
        try checkShape(features.count, n, d, "probe features")
        guard labels.count == n, groups.count == n, trivial.count == n else {
            throw AnalysisError.shapeMismatch(
                "probe has \(n) samples but \(labels.count) labels, \(groups.count) groups, \(trivial.count) trivial values")
        }
        try checkFinite(features, "probe features")
        try checkFinite(trivial, "trivial feature")
        if case .regression(let y) = labels { try checkFinite(y, "probe target \(target)") }
        let folds = try GroupKFold.split(groups: groups, folds: options.folds)
        let x = features.map(Double.init)
        let perm = SplitMix64.permutation(count: n, seed: options.shuffleSeed)
        let total = Double(3 * folds.count)
        var done = 0.0
        let tick: (String, Int) throws -> Void = { stage, fold in
            done += 1
            try progress?(done / total, "\(target): \(stage), fold \(fold + 1)/\(folds.count)")
        }
        let main = try crossValidate(features: x, count: n, dims: d, labels: labels, folds: folds,
                                     options: options, afterFold: { try tick("probe", $0) })
        let shuffled = try crossValidate(features: x, count: n, dims: d, labels: labels.permuted(perm),
                                         folds: folds, options: options, afterFold: { try tick("shuffled control", $0) })
        let trivialScores = try crossValidate(features: trivial, count: n, dims: 1, labels: labels, folds: folds,
                                              options: options, afterFold: { try tick("trivial control", $0) })
        var classes: Int? = nil
        if case .classification(let y) = labels { classes = Set(y).count }
        return ProbeResult(
            target: target, task: labels.task, metric: labels.metric,
            folds: main.folds, mean: main.mean, std: main.std, alphas: main.alphas,
            c: labels.task == .classification ? options.c : nil,
            controls: ProbeControls(shuffled: shuffled, trivial: trivialScores),
            n: n, dims: d, groups: GroupKFold.groupCount(groups), foldCount: folds.count,
            classes: classes, shuffleSeed: options.shuffleSeed)
    }

    /// Scores of one probe over given folds (no controls). Features are n×d Double, row-major.
    /// `afterFold(f)` runs after each fold; throw from it to cancel.
    public static func crossValidate(features x: [Double], count n: Int, dims d: Int, labels: ProbeLabels,
                                     folds: [Fold], options: ProbeOptions = ProbeOptions(),
                                     afterFold: ((Int) throws -> Void)? = nil) throws -> ProbeScores {
        try checkShape(x.count, n, d, "probe features")
        guard labels.count == n else { throw AnalysisError.shapeMismatch("\(labels.count) labels for \(n) samples") }
        var scores: [Double] = []
        var alphas: [Double] = []
        for (f, fold) in folds.enumerated() {
            guard !fold.train.isEmpty, !fold.test.isEmpty,
                  (fold.train + fold.test).allSatisfy({ $0 >= 0 && $0 < n }) else {
                throw AnalysisError.invalidArgument("fold \(f) has an empty side or an index outside 0..<\(n)")
            }
            let rawTrain = gatherRows(x, d: d, rows: fold.train)
            let scaler = StandardScaler(fitting: rawTrain, count: fold.train.count, dims: d)
            let xTrain = scaler.transform(rawTrain, count: fold.train.count)
            let xTest = scaler.transform(gatherRows(x, d: d, rows: fold.test), count: fold.test.count)
            switch labels {
            case .regression(let y):
                let model = try RidgeCV.fit(x: xTrain, count: fold.train.count, dims: d,
                                            y: fold.train.map { y[$0] }, alphas: options.alphas)
                scores.append(Metrics.r2(truth: fold.test.map { y[$0] },
                                         predicted: model.predict(xTest, count: fold.test.count)))
                alphas.append(model.alpha)
            case .classification(let y):
                let trainLabels = fold.train.map { y[$0] }
                guard Set(trainLabels).count >= 2 else { throw AnalysisError.singleClass(fold: f, label: trainLabels[0]) }
                let model = try LogisticRegression.fit(x: xTrain, count: fold.train.count, dims: d, y: trainLabels,
                                                       c: options.c, tolerance: options.tolerance,
                                                       maxIterations: options.maxIterations)
                scores.append(Metrics.balancedAccuracy(truth: fold.test.map { y[$0] },
                                                       predicted: model.predict(xTest, count: fold.test.count)))
            }
            try afterFold?(f)
        }
        return ProbeScores(folds: scores, alphas: labels.task == .regression ? alphas : nil)
    }
}

private func pow10(_ e: Double) -> Double { Foundation.pow(10, e) }
