import Analysis
import Core
import Foundation
import Services
import Store
import Teacher

/// `layer_sweep {model?, layers?, kinds?, sample?, seed?, folds?, group_by?}`: for every layer and
/// kind, the space `MODEL.L<layer>.<kind>` (made by an `embed` job) is read and, on one seeded
/// sample of functions shared by all layers, `LayerAnalysis.stats` (mean pairwise cosine, its
/// spread, effective rank of the centred embeddings) plus the cross-validated ridge R² of
/// log1p(LOC) and log1p(cyclomatic complexity) (`Probe.crossValidate`, GroupKFold as in `probe`).
///
/// Params: `model` (default `$SWEJEPA_MODEL` or all-MiniLM-L6-v2; a folder path works too, its
/// last component names the spaces), `layers` (list or "all", default "all": 0…L from the model's
/// config.json, else every layer that has a space), `kinds` (default ["body_mean"]; any kind with
/// one vector per function), `sample` (default 2000), `seed` (0), `folds` (5), `group_by` ("repo").
///
/// Result (the sweep has no table of its own; this is it), ready to plot:
/// `{"model", "kinds", "layers", "sample", "seed", "folds", "group_by", "rows": [{"layer", "kind",
/// "space", "n", "dims", "mean_cosine", "cosine_std", "effective_rank", "loc_r2", "loc_r2_std",
/// "complexity_r2", "complexity_r2_std", "skipped_zero"}], "columns": {"layer": […], …}}` where
/// `columns` holds the same numbers column-wise.
public enum LayerSweepJob {
    static let columns = ["layer", "kind", "space", "n", "dims", "mean_cosine", "cosine_std", "effective_rank",
                          "loc_r2", "loc_r2_std", "complexity_r2", "complexity_r2_std", "skipped_zero"]

    /// One swept space (probe columns null when the property was unusable).
    struct Row: Encodable, Sendable {
        var layer: Int
        var kind: String
        var space: String
        var n: Int
        var dims: Int
        var meanCosine: Double
        var cosineStd: Double
        var effectiveRank: Double
        var locR2: Double?
        var locR2Std: Double?
        var complexityR2: Double?
        var complexityR2Std: Double?
        var skippedZero: Int

        enum CodingKeys: String, CodingKey {
            case layer, kind, space, n, dims, meanCosine = "mean_cosine", cosineStd = "cosine_std", effectiveRank = "effective_rank"
            case locR2 = "loc_r2", locR2Std = "loc_r2_std", complexityR2 = "complexity_r2", complexityR2Std = "complexity_r2_std"
            case skippedZero = "skipped_zero"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(layer, forKey: .layer); try c.encode(kind, forKey: .kind); try c.encode(space, forKey: .space)
            try c.encode(n, forKey: .n); try c.encode(dims, forKey: .dims); try c.encode(meanCosine, forKey: .meanCosine)
            try c.encode(cosineStd, forKey: .cosineStd); try c.encode(effectiveRank, forKey: .effectiveRank)
            try c.encode(locR2, forKey: .locR2); try c.encode(locR2Std, forKey: .locR2Std)  // null, not absent
            try c.encode(complexityR2, forKey: .complexityR2); try c.encode(complexityR2Std, forKey: .complexityR2Std)
            try c.encode(skippedZero, forKey: .skippedZero)
        }
    }

    /// `layer_sweep`'s result: `rows`, and the same numbers column-wise in `columns`.
    struct Result: Encodable, Sendable {
        var model: String
        var kinds: [String]
        var layers: [Int]
        var sample: Int
        var seed: UInt64
        var folds: Int
        var groupBy: String
        var rows: [Row]
        var seconds: Double

        enum CodingKeys: String, CodingKey { case model, kinds, layers, sample, seed, folds, groupBy = "group_by", rows, columns, seconds }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(model, forKey: .model); try c.encode(kinds, forKey: .kinds); try c.encode(layers, forKey: .layers)
            try c.encode(sample, forKey: .sample); try c.encode(seed, forKey: .seed); try c.encode(folds, forKey: .folds)
            try c.encode(groupBy, forKey: .groupBy); try c.encode(rows, forKey: .rows); try c.encode(seconds, forKey: .seconds)
            let table = try rows.map { try JSONValue.from($0) }
            try c.encode(Dictionary(uniqueKeysWithValues: LayerSweepJob.columns.map { col in (col, table.map { $0[col] ?? .null }) }), forKey: .columns)
        }
    }

    @Sendable static func run(_ ctx: JobContext, _ p: Params) async throws -> Result {
        let started = Date()
        let modelArg = p.model ?? ProcessInfo.processInfo.environment["SWEJEPA_MODEL"] ?? ModelCache.defaultModel
        let model = modelArg.contains("/") ? URL(fileURLWithPath: modelArg).lastPathComponent : modelArg
        let kinds = p.kinds, sampleSize = p.sample, seed = p.seed, folds = p.folds, grouping = p.groupBy

        // Which layers, and do their spaces exist?
        let existing = Set(try await ctx.store.spaces().map(\.name))
        var layers = [Int]()  // for "all": from the model's config, else every layer that has a space
        if case .list(let explicit) = p.layers { layers = explicit }
        if layers.isEmpty {
            let dir = try ModelCache.resolve(p.model, dataDirectory: ctx.dataDirectory)
            if let info = try? TeacherModelFolder(directory: dir).describe() {  // BERT config or GGUF header
                layers = Array(0...info.layers)
            } else {
                let prefix = "\(model).L"
                layers = Set(existing.compactMap { name -> Int? in
                    guard name.hasPrefix(prefix) else { return nil }
                    let rest = name.dropFirst(prefix.count)
                    guard let dot = rest.firstIndex(of: "."), let l = Int(rest[..<dot]),
                          kinds.map(\.rawValue).contains(String(rest[rest.index(after: dot)...])) else { return nil }
                    return l
                }).sorted()
            }
        }
        var plan = [(layer: Int, kind: SpaceKind, space: String)]()
        for l in layers { for k in kinds { plan.append((l, k, spaceName(model: model, layer: l, kind: k))) } }
        let missing = plan.filter { !existing.contains($0.space) }
        if plan.isEmpty || !missing.isEmpty {
            let missingLayers = Array(Set((plan.isEmpty ? [] : missing).map(\.layer))).sorted()
            let embed: JSONValue = ["type": "embed", "model": .string(modelArg),
                                    "layers": missingLayers.isEmpty ? "all" : .array(missingLayers.map { .number(Double($0)) }),
                                    "kinds": .array(kinds.map { .string($0.rawValue) })]
            let what = plan.isEmpty ? "no spaces of model '\(model)' with kinds \(kinds.map(\.rawValue))"
                                    : "missing spaces \(missing.map(\.space).joined(separator: ", "))"
            throw APIError.unprocessable("layer_sweep: \(what); run the embed job first: POST /v1/jobs \(embed.jsonString())",
                                         code: "missing_space")
        }
        await ctx.log("sweeping \(plan.count) spaces of \(model): layers \(layers), kinds \(kinds.map(\.rawValue)), sample \(sampleSize), \(folds) folds by \(grouping.rawValue)")

        // One sample of function ids, drawn from the first space, used for every layer.
        var sampleIDs: Set<Int64>?
        var groupOf = [Int64: String]()
        var rows = [Row]()
        let options = ProbeOptions(folds: folds)
        for (s, item) in plan.enumerated() {
            try ctx.checkCancelled()
            let base = Double(s) / Double(plan.count), span = 1 / Double(plan.count)
            await ctx.progress(base, "\(item.space): loading")
            var data = try await SpaceData.load(ctx.store, space: item.space, job: "layer_sweep")
            if sampleIDs == nil {
                let picked = LayerAnalysis.sample(count: data.count, size: sampleSize, seed: seed)
                sampleIDs = Set(picked.map { data.ids[$0] })
                let sampled = data.subset(picked)
                let keys = try await grouping.keys(sampled, store: ctx.store)
                try grouping.check(keys, folds: folds, space: item.space)
                for (id, k) in zip(sampled.ids, keys) { groupOf[id] = k }
            }
            let wanted = sampleIDs!
            data = data.subset((0..<data.count).filter { wanted.contains(data.ids[$0]) && groupOf[data.ids[$0]] != nil })
            let skippedZero = data.dropZeroRows()
            guard data.count >= 2 * folds else {
                throw APIError.unprocessable("space '\(item.space)' has \(data.count) usable sampled vectors; need at least \(2 * folds)", code: "too_few_vectors")
            }
            let d = data.dims, n = data.count, layer = item.layer
            let vectors = data.vectors
            var row = try await ctx.compute { try LayerAnalysis.stats(vectors: vectors, count: n, dims: d, layer: layer) }
            await ctx.progress(base + span / 3, "\(item.space): probes")
            for (target, key) in [("loc", "loc"), ("cyclomatic_complexity", "complexity")] {
                try ctx.checkCancelled()
                guard case .success(let labels) = TargetSpec(name: target).labels(data.facts) else {
                    await ctx.log("\(item.space): no usable '\(target)'; its probe column is null", level: .warning)
                    continue
                }
                let groups = labels.rows.map { groupOf[data.ids[$0]]! }
                let x = vectors.rowsAsDouble(labels.rows, dims: d)
                let m = labels.rows.count
                do {
                    let scores = try await ctx.compute {
                        let f = try GroupKFold.split(groups: groups, folds: folds)
                        return try Probe.crossValidate(features: x, count: m, dims: d, labels: labels.labels, folds: f,
                                                       options: options, afterFold: { _ in try cancelCheck(ctx) })
                    }
                    row.probes["\(key)_r2"] = scores.mean
                    row.probes["\(key)_r2_std"] = scores.std
                } catch let e as AnalysisError {
                    await ctx.log("\(item.space): \(target) probe failed: \(e.description)", level: .warning)
                }
            }
            rows.append(Row(layer: layer, kind: item.kind.rawValue, space: item.space, n: row.n, dims: row.dims,
                            meanCosine: row.meanCosine, cosineStd: row.cosineStd, effectiveRank: row.effectiveRank,
                            locR2: row.probes["loc_r2"], locR2Std: row.probes["loc_r2_std"],
                            complexityR2: row.probes["complexity_r2"], complexityR2Std: row.probes["complexity_r2_std"],
                            skippedZero: skippedZero))
            await ctx.log(String(format: "%@: cos %.3f ± %.3f, erank %.1f, R² loc %.3f, complexity %.3f", item.space, row.meanCosine,
                                 row.cosineStd, row.effectiveRank, row.probes["loc_r2"] ?? .nan, row.probes["complexity_r2"] ?? .nan))
            await ctx.progress(base + span, "\(item.space) done")
        }
        return Result(model: model, kinds: kinds.map(\.rawValue), layers: layers, sample: sampleSize, seed: seed, folds: folds,
                      groupBy: grouping.rawValue, rows: rows, seconds: Date().timeIntervalSince(started))
    }
}
