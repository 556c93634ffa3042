/// One cross-validation split: sample indices (ascending) used to fit and to evaluate.
public struct Fold: Sendable, Equatable, Codable {
    public let train: [Int]
    public let test: [Int]
    public init(train: [Int], test: [Int]) { self.train = train; self.test = test }

    /// A fold from its test indices over `count` samples (train = the complement, ascending).
    public init(test: [Int], count: Int) {
        var inTest = [Bool](repeating: false, count: count)
        for i in test { inTest[i] = true }
        self.test = test.sorted()
        self.train = (0..<count).filter { !inTest[$0] }
    }
}

/// scikit-learn's `KFold(n_splits:)` without shuffling: contiguous test blocks, the first
/// `count % folds` blocks one sample larger.
///
/// ```swift
/// let folds = try KFold.split(count: 10, folds: 3)   // test blocks 0..<4, 4..<7, 7..<10
/// ```
public enum KFold {
    public static func split(count n: Int, folds k: Int) throws -> [Fold] {
        guard k >= 2 else { throw AnalysisError.invalidArgument("folds must be at least 2, got \(k)") }
        guard n >= k else { throw AnalysisError.tooFewGroups(groups: n, folds: k) }
        var out: [Fold] = []
        var start = 0
        for f in 0..<k {
            let size = n / k + (f < n % k ? 1 : 0)
            out.append(Fold(test: Array(start..<(start + size)), count: n))
            start += size
        }
        return out
    }
}

/// scikit-learn's `GroupKFold(n_splits:)` (no shuffle), reproduced exactly as in scikit-learn
/// 1.9.1 `_iter_test_indices`: distinct groups are sorted (`np.unique`), ordered by size
/// descending (reverse of a stable ascending argsort, so among equal sizes the larger group
/// value comes first), and each is given to the fold holding the fewest samples so far (the
/// first such fold on ties). No group is ever on both sides of a split.
///
/// ```swift
/// let folds = try GroupKFold.split(groups: ["numpy", "numpy", "requests", "flask"], folds: 3)
/// for fold in folds { print(fold.train, fold.test) }
/// ```
public enum GroupKFold {
    public static func split<G: Hashable & Comparable>(groups: [G], folds k: Int) throws -> [Fold] {
        guard k >= 2 else { throw AnalysisError.invalidArgument("folds must be at least 2, got \(k)") }
        let unique = Array(Set(groups)).sorted()
        guard unique.count >= k else { throw AnalysisError.tooFewGroups(groups: unique.count, folds: k) }
        var position: [G: Int] = [:]
        for (i, g) in unique.enumerated() { position[g] = i }
        let groupIndex = groups.map { position[$0]! }
        var sizes = [Int](repeating: 0, count: unique.count)
        for g in groupIndex { sizes[g] += 1 }
        // Stable ascending argsort by size, then reversed.
        let order = Array((0..<unique.count).sorted { sizes[$0] != sizes[$1] ? sizes[$0] < sizes[$1] : $0 < $1 }
            .reversed())
        var foldLoad = [Int](repeating: 0, count: k)
        var groupFold = [Int](repeating: 0, count: unique.count)
        for g in order {
            var lightest = 0
            for f in 1..<k where foldLoad[f] < foldLoad[lightest] { lightest = f }
            foldLoad[lightest] += sizes[g]
            groupFold[g] = lightest
        }
        var tests = [[Int]](repeating: [], count: k)
        for (i, g) in groupIndex.enumerated() { tests[groupFold[g]].append(i) }
        return tests.map { Fold(test: $0, count: groups.count) }
    }

    /// Number of distinct groups.
    public static func groupCount<G: Hashable>(_ groups: [G]) -> Int { Set(groups).count }
}
