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
    static let keys: Set<String> = ["model", "layers", "kinds", "sample", "seed", "folds", "group_by"]
    static let meanKinds = SpaceKind.allCases.filter { !$0.isTokens }.map(\.rawValue)
    static let columns = ["layer", "kind", "space", "n", "dims", "mean_cosine", "cosine_std", "effective_rank",
                          "loc_r2", "loc_r2_std", "complexity_r2", "complexity_r2_std", "skipped_zero"]

    static func kinds(_ p: JSONValue) throws -> [SpaceKind] {
        guard let v = p["kinds"], v != .null else { return [.bodyMean] }
        guard let items = v.arrayValue, !items.isEmpty else {
            throw Params.bad("'kinds' must be a non-empty list of \(meanKinds.joined(separator: ", "))")
        }
        var out = [SpaceKind]()
        for item in items {
            guard let s = item.stringValue, meanKinds.contains(s), let k = SpaceKind(rawValue: s) else {
                throw Params.bad("kind \(item.jsonString()) cannot be swept; kinds with one vector per function: \(meanKinds.joined(separator: ", "))")
            }
            if !out.contains(k) { out.append(k) }
        }
        return out
    }

    /// Explicit layers, or nil for "all".
    static func layers(_ p: JSONValue) throws -> [Int]? {
        guard let v = p["layers"], v != .null, v.stringValue != "all" else { return nil }
        guard let items = v.arrayValue, !items.isEmpty, items.count <= 1_000 else {
            throw Params.bad("'layers' must be a non-empty list of layer numbers (0 = embeddings output) or \"all\"")
        }
        var out = [Int]()
        for item in items {
            guard case .number = item, let l = item.intValue, (0...1_000).contains(l) else {
                throw Params.bad("layer \(item.jsonString()) is not an integer in 0...1000")
            }
            if !out.contains(l) { out.append(l) }
        }
        return out
    }

    public static func validate(_ p: JSONValue) throws {
        try Params.onlyKnown(p, keys, job: "layer_sweep")
        _ = try Params.optionalString(p, "model")
        _ = try layers(p)
        _ = try kinds(p)
        _ = try Params.int(p, "sample", default: 2_000, range: 10...1_000_000)
        _ = try Params.seed(p)
        _ = try Params.int(p, "folds", default: 5, range: 2...20)
        _ = try Grouping.parse(p)
    }

    static func run(_ ctx: JobContext) async throws -> JSONValue {
        let started = Date()
        let p = ctx.params
        try validate(p)
        let modelArg = try Params.optionalString(p, "model") ?? ProcessInfo.processInfo.environment["SWEJEPA_MODEL"] ?? ModelCache.defaultModel
        let model = modelArg.contains("/") ? URL(fileURLWithPath: modelArg).lastPathComponent : modelArg
        let kinds = try self.kinds(p)
        let sampleSize = try Params.int(p, "sample", default: 2_000, range: 10...1_000_000)
        let seed = try Params.seed(p)
        let folds = try Params.int(p, "folds", default: 5, range: 2...20)
        let grouping = try Grouping.parse(p)

        // Which layers, and do their spaces exist?
        let existing = Set(try await ctx.store.spaces().map(\.name))
        var layers = try self.layers(p) ?? []
        if layers.isEmpty {
            let config = ModelCache.resolve(modelArg, dataDirectory: ctx.dataDirectory).appendingPathComponent("config.json")
            if let c = try? BertConfig(contentsOf: config) {
                layers = Array(0...c.numHiddenLayers)
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
        var rows = [[String: JSONValue]]()
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
            let nonZero = data.nonZeroRows()
            let skippedZero = data.count - nonZero.count
            if skippedZero > 0 { data = data.subset(nonZero) }
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
            var out: [String: JSONValue] = [
                "layer": .number(Double(layer)), "kind": .string(item.kind.rawValue), "space": .string(item.space),
                "n": .number(Double(row.n)), "dims": .number(Double(row.dims)), "mean_cosine": .number(row.meanCosine),
                "cosine_std": .number(row.cosineStd), "effective_rank": .number(row.effectiveRank),
                "skipped_zero": .number(Double(skippedZero)),
            ]
            for key in ["loc_r2", "loc_r2_std", "complexity_r2", "complexity_r2_std"] {
                out[key] = row.probes[key].map(JSONValue.number) ?? .null
            }
            rows.append(out)
            await ctx.log(String(format: "%@: cos %.3f ± %.3f, erank %.1f, R² loc %.3f, complexity %.3f", item.space, row.meanCosine,
                                 row.cosineStd, row.effectiveRank, row.probes["loc_r2"] ?? .nan, row.probes["complexity_r2"] ?? .nan))
            await ctx.progress(base + span, "\(item.space) done")
        }
        var table = [String: JSONValue]()
        for c in columns { table[c] = .array(rows.map { $0[c] ?? .null }) }
        return [
            "model": .string(model), "kinds": .array(kinds.map { .string($0.rawValue) }),
            "layers": .array(layers.map { .number(Double($0)) }), "sample": .number(Double(sampleSize)),
            "seed": .number(Double(seed)), "folds": .number(Double(folds)), "group_by": .string(grouping.rawValue),
            "rows": .array(rows.map(JSONValue.object)), "columns": .object(table),
            "seconds": .number(Date().timeIntervalSince(started)),
        ]
    }
}
