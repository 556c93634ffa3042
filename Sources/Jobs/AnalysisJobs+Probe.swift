import Analysis
import Core
import Foundation
import Store

/// `probe {space, targets?, folds?, group_by?, alphas?, c?, seed?, sample?, tokenizer?}`: linear
/// probes of function properties from a mean space (`Probe.run`: outer GroupKFold, scaler fitted
/// on each training fold, RidgeCV over the alpha grid for counts (log1p) scored by R², balanced
/// logistic regression for categories scored by balanced accuracy), each with its two controls
/// (shuffled labels, and the trivial one-feature input log1p(token count), see `TrivialFeature`).
///
/// Params:
/// - `space` (required): a space with one vector per function (not `*_tokens`).
/// - `targets`: property names (list, or a comma-separated string). Default: every count
///   (`TargetSpec.counts`) and category (`TargetSpec.categories`) that some function has;
///   other property names are probed by inference (numbers → ridge on raw values, else classes).
/// - `folds` (2…20, default 5); `group_by`: "repo" (default), "file" or "function" (duplicate group).
/// - `alphas` (ridge grid, default 10^-2…10^6 in half decades), `c` (logistic C, default 1).
/// - `seed` (shuffled-label permutation and `sample`, default 0); `sample`: probe a seeded random
///   subset of that many functions.
/// - `tokenizer`: model name or folder for the trivial control (default: the space's model).
///
/// Each target's result is stored in `probe_results` as soon as it is done; a resumed job (after a
/// worker died) reuses the targets it already stored. Targets that cannot be probed (absent, a
/// single class, a fold's training part with one class) are listed under `skipped`; the job fails
/// only when no target could be probed.
public enum ProbeJob {
    /// `probe`'s result: the probed targets' stored records and the targets skipped, with why.
    struct Result: Encodable, Sendable {
        var space: String
        var groupBy: String
        var folds: Int
        var n: Int
        var dims: Int
        var groups: Int
        var trivialFeature: String
        var seed: UInt64
        var results: [JSONValue]
        var skipped: [TargetSkip]
        var seconds: Double

        enum CodingKeys: String, CodingKey {
            case space, groupBy = "group_by", folds, n, dims, groups, trivialFeature = "trivial_feature", seed, results, skipped, seconds
        }
    }

    @Sendable static func run(_ ctx: JobContext, _ p: Params) async throws -> Result {
        let started = Date()
        let spaceName = p.space, folds = p.folds, grouping = p.groupBy, seed = p.seed
        let options = ProbeOptions(folds: folds, alphas: p.alphas, c: p.c, shuffleSeed: seed)
        await ctx.progress(0, "loading \(spaceName)")
        var data = try await SpaceData.load(ctx.store, space: spaceName, job: "probe")
        if data.space.stale > 0 {
            await ctx.log("\(data.space.stale) vectors of \(spaceName) are stale (their function changed since); run embed again for exact results", level: .warning)
        }
        if let size = p.sample, size < data.count {
            data = data.subset(LayerAnalysis.sample(count: data.count, size: size, seed: seed))
            await ctx.log("probing a seeded sample of \(data.count) functions")
        }
        guard data.count >= 2 * folds else {
            throw APIError.unprocessable("space '\(spaceName)' has \(data.count) vectors; a \(folds)-fold probe needs at least \(2 * folds)", code: "too_few_vectors")
        }
        let groups = try await grouping.keys(data, store: ctx.store)
        try grouping.check(groups, folds: folds, space: spaceName)
        let explicit = p.targets
        let targets = explicit ?? TargetSpec.defaults.map(TargetSpec.init(name:))
        try ctx.checkCancelled()

        await ctx.progress(0, "trivial control feature")
        let (trivial, trivialLabel) = try await TrivialFeature.compute(ctx, ids: data.ids, tokenizer: p.tokenizer,
                                                                        model: data.space.model)
        await ctx.log("\(data.count) functions × \(data.dims) dims, \(Set(groups).count) groups by \(grouping.rawValue), \(folds) folds; trivial feature \(trivialLabel)")

        // Targets this job already stored (a resumed attempt).
        var done = [String: ProbeRecord]()
        for r in try await ctx.store.probeResults(ProbeQuery(jobID: ctx.job.id, limit: 10_000)) where done[r.target] == nil {
            done[r.target] = r
        }
        if !done.isEmpty { await ctx.log("resuming: \(done.keys.sorted().joined(separator: ", ")) already stored") }

        var results = [JSONValue](), skipped = [TargetSkip]()
        for (t, target) in targets.enumerated() {
            try ctx.checkCancelled()
            if let r = done[target.name] {
                results.append(r.result.merging(["id": .number(Double(r.id))]))
                continue
            }
            let labels: TargetLabels
            switch target.labels(data.facts) {
            case .failure(let skip):
                // Absent history counts etc. are expected among the defaults; say so only when asked for.
                if explicit != nil || skip.reason != "no function has this property" { skipped.append(skip) }
                if explicit != nil { await ctx.log("skipping \(target.name): \(skip.reason)", level: .warning) }
                continue
            case .success(let l): labels = l
            }
            let rows = labels.rows
            let x = data.vectors.rows(rows, dims: data.dims)
            let g = rows.map { groups[$0] }
            let triv = rows.map { trivial[$0] }
            let d = data.dims
            let base = Double(t) / Double(targets.count), span = 1 / Double(targets.count)
            let reporter = ThrottledProgress(ctx: ctx, offset: base, scale: span, label: target.name)
            let name = target.name
            let result: ProbeResult
            do {
                result = try await ctx.compute {
                    var r = try Probe.run(target: name, features: x, count: rows.count, dims: d, labels: labels.labels,
                                          groups: g, trivial: triv, options: options) { fraction, message in
                        try cancelCheck(ctx)
                        reporter.report(fraction, message)
                    }
                    r.classNames = labels.classNames
                    return r
                }
            } catch let e as AnalysisError {
                let skip = TargetSkip(target: name, reason: e.description)
                skipped.append(skip)
                await ctx.log("skipping \(name): \(e.description)", level: .warning)
                continue
            }
            let json = try JSONValue.from(result).merging([
                "space": .string(spaceName), "group_by": .string(grouping.rawValue), "trivial_feature": .string(trivialLabel),
                "transform": labels.transform.map(JSONValue.string) ?? .null,
                "missing": .number(Double(data.count - rows.count)), "job_id": .number(Double(ctx.job.id)),
            ])
            let saved = try await ctx.store.addProbeResult(ProbeRecordInput(
                jobID: ctx.job.id, space: spaceName, target: name, task: result.task.rawValue, metric: result.metric.rawValue,
                mean: result.mean, std: result.std, groupBy: grouping.rawValue, result: json))
            results.append(json.merging(["id": .number(Double(saved.id))]))
            await ctx.log(String(format: "%@: %@ %.3f ± %.3f (shuffled %.3f, trivial %.3f), n=%d", name, result.metric.rawValue,
                                 result.mean, result.std, result.controls.shuffled.mean, result.controls.trivial.mean, result.n))
            await ctx.progress(base + span, "\(name) done")
        }
        guard !results.isEmpty else {
            let reasons = skipped.map { "\($0.target): \($0.reason)" }
            throw APIError.unprocessable("no target could be probed\(reasons.isEmpty ? " (no function has any of the default properties)" : ": " + reasons.joined(separator: "; "))",
                                         code: "nothing_to_probe")
        }
        return Result(space: spaceName, groupBy: grouping.rawValue, folds: folds, n: data.count, dims: data.dims,
                      groups: Set(groups).count, trivialFeature: trivialLabel, seed: seed, results: results, skipped: skipped,
                      seconds: Date().timeIntervalSince(started))
    }
}
