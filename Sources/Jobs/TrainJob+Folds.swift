import Core
import Foundation
import Services
import Store
import Training

/// `train` with `folds: k`: k models on the same settings, model i tested on fold i's repositories
/// (`DataSplit.folds`, seeded) and trained and validated on the others (best epoch on validation
/// Rank@10, as in a single run). The result lists every fold (its test function ids, test and
/// validation metrics, baselines, best epoch) and the mean and sample standard deviation (n − 1) of
/// each test metric across folds. The student space holds each function's out-of-fold prediction
/// (from the one model that did not train on it; each fold's predictions are centred on its own
/// train mean). No checkpoint is written: a job re-run after its worker died starts again.
///
/// ```swift
/// try await runner.submit(type: "train", params: ["input_space": "m.L3.sig_tokens", "target_space": "m.L3.body_mean",
///     "model": "sig_predictor", "loss": "infonce", "epochs": 4, "folds": 5])
/// // result["summary"]["rank10"]["mean"], result["fold_results"][0]["test_function_ids"] …
/// ```
extension TrainJob {
    /// One fold of a k-fold run.
    struct FoldResult: Sendable {
        var fold: Int
        var testFunctionIDs: [Int64]
        var report: TrainingReport
        var seconds: Double
    }

    /// Mean, sample standard deviation (n − 1), min and max of one metric across folds.
    struct FoldStat: Encodable, Sendable, Equatable {
        var mean: Double, std: Double, min: Double, max: Double

        init(_ values: [Double]) {
            let n = Double(values.count)
            mean = values.reduce(0, +) / n
            let m = mean
            std = values.count > 1 ? (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot() : 0
            min = values.min() ?? .nan
            max = values.max() ?? .nan
        }

        /// `{rank1, rank10, mrr}` of these metrics.
        static func summary(_ ms: [RetrievalMetrics]) -> [String: FoldStat] {
            ["rank1": FoldStat(ms.map(\.rank1)), "rank10": FoldStat(ms.map(\.rank10)), "mrr": FoldStat(ms.map(\.mrr))]
        }
    }

    /// `train`'s result with folds.
    struct FoldsResult: Encodable, Sendable {
        var folds: [FoldResult]
        var config: TrainingConfig
        var inputSpace: String, targetSpace: String, outputSpace: String
        var splitBy: String
        var repositories: Int, duplicateGroups: Int, corpusCount: Int
        var seconds: Double

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: SettingKey.self)
            func put<V: Encodable>(_ key: String, _ value: V) throws { try c.encode(value, forKey: SettingKey(key)) }
            try put("folds", folds.count)
            try put("summary", FoldStat.summary(folds.map(\.report.test)))
            try put("validation_summary", FoldStat.summary(folds.map(\.report.validation)))
            let sig = folds.compactMap(\.report.signatureMeanBaseline)
            if sig.count == folds.count { try put("signature_mean_baseline_summary", FoldStat.summary(sig)) }
            try put("random_baseline_summary", FoldStat.summary(folds.map(\.report.randomBaseline)))
            var list = [JSONValue]()
            for f in folds {
                var o = try TrainJob.snakeJSON(f.report).objectValue ?? [:]
                o["fold"] = .number(Double(f.fold))
                o["test_function_ids"] = .array(f.testFunctionIDs.map { .number(Double($0)) })
                o["seconds"] = .number(f.seconds)
                list.append(.object(o))
            }
            try put("fold_results", list)
            try put("config", TrainJob.snakeJSON(config))
            try put("input_space", inputSpace); try put("target_space", targetSpace); try put("output_space", outputSpace)
            try put("checkpoint", JSONValue.null)  // none with folds
            try put("split_by", splitBy); try put("repositories", repositories); try put("duplicate_groups", duplicateGroups)
            try put("corpus_count", corpusCount)
            try put("seconds", seconds)
        }
    }

    // swiftlint:disable:next function_parameter_count
    static func runFolds(_ ctx: JobContext, k: Int, config: TrainingConfig, loaded: LoadedData, input: SpaceRecord, target: SpaceRecord,
                         outputName: String, splitBy: SplitBy, writer: VectorWriter, started: Date,
                         observer: (@Sendable (_ fold: Int, _ epoch: Int) -> Void)? = nil) async throws -> FoldsResult {
        let groups = splitBy == .repository ? "repositories" : "directories"
        guard k <= loaded.repositories else {
            throw APIError.unprocessable("folds \(k) needs at least \(k) \(groups); the data has \(loaded.repositories)", code: "too_few_repositories")
        }
        let splits: [DataSplit]
        do { splits = try DataSplit.folds(loaded.data.repositories, k: k, seed: config.seed) } catch let e as TrainingError {
            throw APIError.unprocessable(e.description, code: "too_few_repositories")
        }
        let dt = target.dim
        var outOfFold = [Float](repeating: 0, count: loaded.ids.count * dt)
        var results = [FoldResult]()
        for (fold, split) in splits.enumerated() {
            try ctx.checkCancelled()
            let foldStarted = Date()
            let feed = TrainingFeed()
            let epochs = Mutex(0)
            let hooks = TrainingHooks(
                onMetric: { step, name, value in
                    feed.metric(step, "fold\(fold)/\(name)", value)
                    if name == "train/epoch_loss" { observer?(fold, epochs.withLock { $0 += 1; return $0 }) }
                },
                onProgress: { f, message in
                    feed.progress(0.05 + 0.9 * (Double(fold) + f) / Double(k), "fold \(fold + 1)/\(k): \(message)")
                },
                shouldCancel: { ctx.isCancelled })
            feed.log("fold \(fold + 1)/\(k): split \(split.train.count)/\(split.validation.count)/\(split.test.count) functions")
            let cfg = config, data = loaded.data
            let (report, predictions) = try await Self.compute(ctx, feeding: feed) {
                let t = try Trainer(config: cfg, data: data, hooks: hooks, split: split)
                let report = try t.run()
                return (report, try t.predict(split.test))
            }
            for (row, i) in split.test.enumerated() {
                for j in 0..<dt { outOfFold[i * dt + j] = predictions[row * dt + j] }
            }
            results.append(FoldResult(fold: fold, testFunctionIDs: split.test.map { loaded.ids[$0] }, report: report,
                                      seconds: Date().timeIntervalSince(foldStarted)))
            await ctx.log(String(format: "fold %d/%d: test Rank@1 %.4f, Rank@10 %.4f, MRR %.4f on %d functions; best epoch %d of %d",
                                 fold + 1, k, report.test.rank1, report.test.rank10, report.test.mrr, report.testCount,
                                 report.bestEpoch, report.epochs.count))
        }
        try ctx.checkCancelled()
        try await storeStudent(ctx, name: outputName, target: target, ids: loaded.ids, values: outOfFold, writer: writer)
        let s = FoldStat.summary(results.map(\.report.test))
        await ctx.log(String(format: "%d folds: test Rank@1 %.4f ± %.4f, Rank@10 %.4f ± %.4f, MRR %.4f ± %.4f (mean ± std); stored out-of-fold predictions in %@",
                             k, s["rank1"]!.mean, s["rank1"]!.std, s["rank10"]!.mean, s["rank10"]!.std, s["mrr"]!.mean, s["mrr"]!.std,
                             outputName))
        var shown = config
        shown.model.inputDim = input.dim
        shown.model.outputDim = target.dim
        return FoldsResult(folds: results, config: shown, inputSpace: input.name, targetSpace: target.name,
                           outputSpace: outputName, splitBy: splitBy.rawValue, repositories: loaded.repositories,
                           duplicateGroups: loaded.groups, corpusCount: loaded.ids.count, seconds: Date().timeIntervalSince(started))
    }
}
