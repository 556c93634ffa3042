import Core
import Foundation
import Testing
import TestSupport
@testable import Analysis

/// Probe numbers against scikit-learn (fixture from scripts/reference/analysis_sklearn.py).
@Suite(.ownThreads) struct ProbeTests {
    let fx = SklearnFixture.shared

    /// Measured against the fixture: ridge R² folds, means and stds within 2.4e-15 of RidgeCV
    /// (wide 2.4e-15, log_count 7.8e-16, controls ≤ 1.3e-15); balanced accuracies identical (0).
    /// 1e-13 leaves room for BLAS summation order only: a probe coefficient perturbed by 1e-6
    /// moves R² by far more.
    static let tolerance = 1e-13

    func expectScores(_ got: ProbeScores, _ want: SklearnFixture.Scores, _ what: String) {
        #expect(got.folds.count == want.folds.count, "\(what): fold count")
        for (g, w) in zip(got.folds, want.folds) {
            #expect(abs(g - w) <= Self.tolerance, "\(what): fold score \(g) vs sklearn \(w), |diff| \(abs(g - w))")
        }
        #expect(abs(got.mean - want.mean) <= Self.tolerance, "\(what): mean \(got.mean) vs \(want.mean)")
        #expect(abs(got.std - want.std) <= Self.tolerance, "\(what): std \(got.std) vs \(want.std)")
    }

    func options(_ c: SklearnFixture.ProbeCase) -> ProbeOptions {
        ProbeOptions(folds: c.n_splits, alphas: fx.alphas, c: fx.C, shuffleSeed: c.seed)
    }

    @Test func kFoldMatchesSklearn() throws {
        for (k, want) in [(5, fx.kfold_5), (7, fx.kfold_7)] {
            let folds = try KFold.split(count: fx.n, folds: k)
            #expect(folds.map(\.test) == want)
            for f in folds { #expect((f.train + f.test).sorted() == Array(0..<fx.n)) }
        }
    }

    @Test func groupKFoldMatchesSklearn() throws {
        for (name, c) in fx.probes {
            let folds = try GroupKFold.split(groups: fx.groups, folds: c.n_splits)
            #expect(folds.map(\.test) == c.test_folds, "\(name)")
            for f in folds {
                #expect(Set(f.train.map { fx.groups[$0] }).isDisjoint(with: f.test.map { fx.groups[$0] }))
            }
        }
        // One group per function: every group has size 1, ties everywhere.
        let perFunction = try GroupKFold.split(groups: Array(0..<fx.n), folds: 4)
        #expect(perFunction.map(\.test) == fx.groupkfold_function_4)
        let wide = try GroupKFold.split(groups: fx.wide.groups, folds: fx.wide.n_splits)
        #expect(wide.map(\.test) == fx.wide.test_folds)
    }

    @Test func permutationMatchesReference() {
        for c in fx.probes.values {
            #expect(SplitMix64.permutation(count: fx.n, seed: c.seed) == c.permutation)
        }
    }

    @Test func ridgeProbeMatchesRidgeCV() throws {
        let c = fx.probes["log_count"]!
        let y = try ProbeTargets.log1p(counts: fx.counts)
        let r = try Probe.run(target: "log_count", features: fx.X, count: fx.n, dims: fx.d,
                              labels: .regression(y), groups: fx.groups, trivial: fx.tokens, options: options(c))
        #expect(r.task == .regression && r.metric == .r2 && r.n == fx.n && r.groups == 6 && r.foldCount == 5)
        #expect(r.alphas == c.alphas)
        expectScores(ProbeScores(folds: r.folds), c.result, "ridge")
        expectScores(r.controls.shuffled, c.shuffled, "ridge shuffled")
        expectScores(r.controls.trivial, c.trivial, "ridge trivial")
        #expect(r.mean > r.controls.shuffled.mean)
    }

    @Test func ridgeWideUsesGramPathAndMatches() throws {
        let w = fx.wide
        let r = try Probe.run(target: "wide", features: w.X, count: w.n, dims: w.d, labels: .regression(w.y),
                              groups: w.groups, trivial: w.y.map { abs($0) + 1 },
                              options: ProbeOptions(folds: w.n_splits, alphas: fx.alphas, shuffleSeed: w.seed))
        #expect(r.alphas == w.alphas)
        expectScores(ProbeScores(folds: r.folds), w.result, "wide ridge")
        expectScores(r.controls.shuffled, w.shuffled, "wide shuffled")
        expectScores(r.controls.trivial, w.trivial, "wide trivial")
    }

    @Test(arguments: ["class3", "binary"])
    func logisticProbeMatchesSklearn(name: String) throws {
        let c = fx.probes[name]!
        let y = name == "class3" ? fx.y3 : fx.y2
        let r = try Probe.run(target: name, features: fx.X, count: fx.n, dims: fx.d, labels: .classification(y),
                              groups: fx.groups, trivial: fx.tokens, options: options(c))
        #expect(r.task == .classification && r.metric == .balancedAccuracy && r.alphas == nil && r.c == fx.C)
        #expect(r.classes == Set(y).count)
        expectScores(ProbeScores(folds: r.folds), c.result, "\(name)")
        expectScores(r.controls.shuffled, c.shuffled, "\(name) shuffled")
        expectScores(r.controls.trivial, c.trivial, "\(name) trivial")
    }

    @Test func resultRoundTripsThroughJSON() throws {
        let c = fx.probes["binary"]!
        let r = try Probe.run(target: "has_docstring", features: fx.X, count: fx.n, dims: fx.d,
                              labels: .classification(fx.y2), groups: fx.groups, trivial: fx.tokens,
                              options: options(c))
        let data = try JSONEncoder().encode(r)
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect(object["metric"] as? String == "balanced_accuracy")
        #expect(object["fold_count"] as? Int == c.n_splits)
        #expect((object["controls"] as? [String: Any])?["shuffled"] != nil)
        #expect(try JSONDecoder().decode(ProbeResult.self, from: data) == r)
    }

    @Test func categoriesEncodeSortedNames() {
        let values = ["str", "None", "str", "int", "None"]
        let (labels, names) = ProbeLabels.categories(values)
        #expect(names == Array(Set(values)).sorted())
        guard case .classification(let ids) = labels else { Issue.record("not a classification"); return }
        #expect(ids.map { names[$0] } == values)
    }

    @Test func progressReportsAndCancels() throws {
        struct Cancelled: Error {}
        var seen: [Double] = []
        let y = try ProbeTargets.log1p(counts: fx.counts)
        _ = try Probe.run(target: "t", features: fx.X, count: fx.n, dims: fx.d, labels: .regression(y),
                          groups: fx.groups, trivial: fx.tokens, options: ProbeOptions(folds: 3),
                          progress: { f, _ in seen.append(f) })
        #expect(seen.count == 9 && seen.last == 1)
        #expect(throws: Cancelled.self) {
            try Probe.run(target: "t", features: fx.X, count: fx.n, dims: fx.d, labels: .regression(y),
                          groups: fx.groups, trivial: fx.tokens, progress: { f, _ in if f > 0.3 { throw Cancelled() } })
        }
    }

    @Test func badInputThrows() throws {
        let y = try ProbeTargets.log1p(counts: fx.counts)
        #expect(throws: AnalysisError.self) {
            try Probe.run(target: "t", features: Array(fx.X.dropLast()), count: fx.n, dims: fx.d,
                          labels: .regression(y), groups: fx.groups, trivial: fx.tokens)
        }
        #expect(throws: AnalysisError.tooFewGroups(groups: 6, folds: 7)) {
            try GroupKFold.split(groups: fx.groups, folds: 7)
        }
        #expect(throws: AnalysisError.self) { try ProbeTargets.log1p(counts: [1, -2]) }
        var bad = fx.X; bad[3] = .nan
        #expect(throws: AnalysisError.nonFinite("probe features")) {
            try Probe.run(target: "t", features: bad, count: fx.n, dims: fx.d, labels: .regression(y),
                          groups: fx.groups, trivial: fx.tokens)
        }
        // A training fold with one class: two groups of equal size, the larger id is tested first.
        #expect(throws: AnalysisError.singleClass(fold: 0, label: 0)) {
            try Probe.run(target: "t", features: Array(fx.X[0..<(4 * fx.d)]), count: 4, dims: fx.d,
                          labels: .classification([0, 0, 1, 1]), groups: [1, 1, 2, 2], trivial: [1, 2, 3, 4],
                          options: ProbeOptions(folds: 2))
        }
    }
}
