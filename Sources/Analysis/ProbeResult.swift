import Core
import Foundation

/// What a probe predicts.
public enum ProbeTask: String, Codable, Sendable { case regression, classification }

/// How a probe is scored.
public enum ProbeMetric: String, Codable, Sendable {
    case r2
    case balancedAccuracy = "balanced_accuracy"
}

/// Labels of a probe: real targets (ridge, R²) or class labels (logistic, balanced accuracy).
///
/// ```swift
/// let loc = ProbeLabels.regression(try ProbeTargets.log1p(counts: linesOfCode))
/// let kind = ProbeLabels.classification(returnCategoryIds)
/// ```
public enum ProbeLabels: Sendable, Equatable {
    case regression([Double])
    case classification([Int])

    public var count: Int {
        switch self { case .regression(let y): y.count; case .classification(let y): y.count }
    }
    public var task: ProbeTask {
        switch self { case .regression: .regression; case .classification: .classification }
    }
    public var metric: ProbeMetric {
        switch self { case .regression: .r2; case .classification: .balancedAccuracy }
    }
    /// Class labels from any comparable values (strings, bools …): label = position of the value
    /// among the sorted distinct values, which are returned as `names`.
    ///
    /// ```swift
    /// let (labels, names) = ProbeLabels.categories(["str", "None", "str", "int"])
    /// // labels == .classification([2, 0, 2, 1]), names == ["None", "int", "str"]
    /// ```
    public static func categories<L: Hashable & Comparable>(_ values: [L]) -> (labels: ProbeLabels, names: [L]) {
        let names = Array(Set(values)).sorted()
        var index: [L: Int] = [:]
        for (i, v) in names.enumerated() { index[v] = i }
        return (.classification(values.map { index[$0]! }), names)
    }

    /// labels[perm[i]] at position i.
    public func permuted(_ perm: [Int]) -> ProbeLabels {
        switch self {
        case .regression(let y): .regression(perm.map { y[$0] })
        case .classification(let y): .classification(perm.map { y[$0] })
        }
    }
}

/// Target transforms.
public enum ProbeTargets {
    /// log(1 + count) for non-negative counts (LOC, complexity, commits, authors …).
    public static func log1p(counts: [Double]) throws -> [Double] {
        try counts.enumerated().map { i, c in
            guard c.isFinite, c >= 0 else {
                throw AnalysisError.invalidArgument("count \(i) is \(c); counts must be finite and ≥ 0")
            }
            return Foundation.log1p(c)
        }
    }

    /// log(1 + count) for integer counts.
    public static func log1p(counts: [Int]) throws -> [Double] { try log1p(counts: counts.map(Double.init)) }
}

/// Per-fold scores with their mean and population standard deviation.
public struct ProbeScores: Codable, Sendable, Equatable {
    public var folds: [Double]
    public var mean: Double
    public var std: Double
    /// Ridge alpha chosen in each fold (regression only).
    public var alphas: [Double]?

    public init(folds: [Double], alphas: [Double]? = nil) {
        self.folds = folds
        (mean, std) = meanAndStd(folds)
        self.alphas = alphas
    }
}

/// The controls reported next to every probe.
public struct ProbeControls: Codable, Sendable, Equatable {
    /// Same features, labels permuted by a seeded SplitMix64 permutation.
    public var shuffled: ProbeScores
    /// Same labels, a single trivial feature (e.g. the token count).
    public var trivial: ProbeScores
}

/// A stored/returned probe outcome (JSON keys in snake_case).
///
/// ```json
/// {"target":"loc","task":"regression","metric":"r2","folds":[0.71,…],"mean":0.7,"std":0.02,
///  "alphas":[100,…],"controls":{"shuffled":{…},"trivial":{…}},"n":17617,"dims":384,"groups":799,…}
/// ```
public struct ProbeResult: Codable, Sendable, Equatable {
    public var target: String
    public var task: ProbeTask
    public var metric: ProbeMetric
    public var folds: [Double]
    public var mean: Double
    public var std: Double
    /// Ridge alpha chosen per fold (regression).
    public var alphas: [Double]?
    /// Inverse regularisation strength C (classification).
    public var c: Double?
    public var controls: ProbeControls
    /// Samples, feature dimensions, distinct groups, folds, classes (classification).
    public var n: Int
    public var dims: Int
    public var groups: Int
    public var foldCount: Int
    public var classes: Int?
    /// Optional names of the class labels 0, 1, … (set by the caller, e.g. from `categories`).
    public var classNames: [String]? = nil
    public var shuffleSeed: UInt64

    enum CodingKeys: String, CodingKey {
        case target, task, metric, folds, mean, std, alphas, c, controls, n, dims, groups, classes
        case foldCount = "fold_count", shuffleSeed = "shuffle_seed", classNames = "class_names"
    }
}
