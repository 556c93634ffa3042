import ArgumentParser
import Core
import Foundation

/// `swejepa probe`: submits a `probe` job, follows it, prints one row per target.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Linear probes of function properties from a space's vectors (a probe job on a running server).",
        discussion: """
            Counts (loc, cyclomatic_complexity, n_branches, n_loops, n_returns, n_args, n_api_calls, commits,
            authors, file_commits) are probed as log1p by ridge regression (R²); categories (return_category,
            has_docstring, has_decorators, is_method, is_async) by balanced logistic regression (balanced
            accuracy). GroupKFold keeps each repository (--group-by repo), source file (file) or duplicate group
            (function) on one side of every split. Controls: shuffled labels, and the token count alone.
            Results are stored: GET /v1/probes?space=SPACE.

            Examples:
              swejepa probe --space all-MiniLM-L6-v2.L3.body_mean --targets loc,cyclomatic_complexity,return_category --group-by file
              swejepa probe --space all-MiniLM-L6-v2.L3.body_mean          # every property present
            """)

    @OptionGroup var server: ServerOptions
    @Option(help: "Space to probe (one vector per function, e.g. all-MiniLM-L6-v2.L3.body_mean).") var space: String
    @Option(help: "Comma-separated targets (default: every property present).") var targets: String?
    @Option(help: "Cross-validation groups: repo, file or function (duplicate group).") var groupBy: String = "repo"
    @Option(help: "Outer folds.") var folds: Int = 5
    @Option(help: "Seed of the shuffled control (and of --sample).") var seed: Int = 0
    @Option(help: "Probe a seeded random subset of this many functions.") var sample: Int?
    @Flag(help: "Print the whole result as JSON.") var json = false
    @Flag(help: "Return after queueing instead of following the job.") var noWait = false

    func run() async throws {
        var params: [String: JSONValue] = ["type": "probe", "space": .string(space), "group_by": .string(groupBy),
                                           "folds": .number(Double(folds)), "seed": .number(Double(seed))]
        if let targets { params["targets"] = ListOption.strings(targets) }
        if let sample { params["sample"] = .number(Double(sample)) }
        try await server.runJob(.object(params), noWait: noWait, json: json, render: ProbeTable.render)
    }
}

/// `swejepa layer-sweep`: submits a `layer_sweep` job, follows it, prints one row per layer.
struct LayerSweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layer-sweep",
        abstract: "Per layer: anisotropy, effective rank and probe R² of LOC and complexity (a layer_sweep job).",
        discussion: """
            Needs the spaces MODEL.L<layer>.<kind> from an embed job (swejepa embed --layers all --kinds body_mean).

            Example:
              swejepa layer-sweep --layers all --sample 2000 --group-by file
            """)

    @OptionGroup var server: ServerOptions
    @Option(help: "Model name (default: the server's default teacher).") var model: String?
    @Option(help: "Layers: comma-separated numbers or 'all'.") var layers: String = "all"
    @Option(help: "Kinds (comma-separated), default body_mean.") var kinds: String?
    @Option(help: "Functions sampled per layer.") var sample: Int = 2_000
    @Option(help: "Seed of the sample.") var seed: Int = 0
    @Option(help: "Cross-validation groups: repo, file or function.") var groupBy: String = "repo"
    @Option(help: "Outer folds.") var folds: Int = 5
    @Flag(help: "Print the whole result as JSON.") var json = false
    @Flag(help: "Return after queueing instead of following the job.") var noWait = false

    func run() async throws {
        var params: [String: JSONValue] = ["type": "layer_sweep", "sample": .number(Double(sample)), "seed": .number(Double(seed)),
                                           "group_by": .string(groupBy), "folds": .number(Double(folds))]
        params["layers"] = try ListOption.layers(layers)
        if let kinds { params["kinds"] = ListOption.strings(kinds) }
        if let model { params["model"] = .string(model) }
        try await server.runJob(.object(params), noWait: noWait, json: json, render: LayerSweepTable.render)
    }
}

/// `swejepa neighbours`: submits a `neighbours` job and prints its summary.
struct NeighboursCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbours",
        abstract: "Top-k cross-repository neighbours of every function, stored for GET /v1/spaces/{name}/neighbours.",
        discussion: """
            Example:
              swejepa neighbours --space all-MiniLM-L6-v2.L3.body_mean --k 10
              swejepa neighbours --space all-MiniLM-L6-v2.L3.body_mean --exclude self   # a single-repository corpus
              swejepa neighbours --space all-MiniLM-L6-v2.L3.body_mean --min-similarity 0.95   # an explicit family threshold
              swejepa neighbours --space all-MiniLM-L6-v2.L3.body_mean --linkage single        # the first rule: mutual-graph components
            """)

    @OptionGroup var server: ServerOptions
    @Option(help: "Space (one vector per function).") var space: String
    @Option(help: "Neighbours per function.") var k: Int = 10
    @Option(help: "Exclude candidates from the function's own repository (repo) or only itself (self).") var exclude: String = "repo"
    @Option(help: "Template families by average linkage over the mutual pairs (average) or their components (single).") var linkage: String?
    @Option(help: "Family threshold τ (default: the --similarity-quantile of random cross-repository pairs).") var minSimilarity: Double?
    @Option(help: "Quantile of random-pair similarity used as τ (server default 0.999).") var similarityQuantile: Double?
    @Flag(help: "Print the whole result as JSON.") var json = false
    @Flag(help: "Return after queueing instead of following the job.") var noWait = false

    func run() async throws {
        var params: [String: JSONValue] = ["type": "neighbours", "space": .string(space), "k": .number(Double(k)), "exclude": .string(exclude)]
        if let linkage { params["linkage"] = .string(linkage) }
        if let minSimilarity { params["min_similarity"] = .number(minSimilarity) }
        if let similarityQuantile { params["similarity_quantile"] = .number(similarityQuantile) }
        try await server.runJob(.object(params), noWait: noWait, json: json, render: NeighboursSummary.render)
    }
}

/// A neighbours job's result in a few lines: the counts, then the first five template families.
enum NeighboursSummary {
    static func render(_ r: JSONValue) -> String {
        var lines = [String(format: "%d functions, k=%d: %d neighbour pairs, %.1f%% within a duplicate group, %d mutual pairs, %d template families",
                            r["functions"]?.intValue ?? 0, r["k"]?.intValue ?? 0, r["pairs"]?.intValue ?? 0,
                            100 * (r["duplicate_share"]?.doubleValue ?? 0), r["mutual_pairs"]?.intValue ?? 0, r["family_count"]?.intValue ?? 0)]
        if let tau = r["threshold"]?["value"]?.doubleValue {
            lines.append("families: \(r["linkage"]?.stringValue ?? "?") linkage, " + String(format: "τ = %.4f", tau)
                         + " (\(r["threshold"]?["source"]?.stringValue ?? "?"))")
        }
        for fam in (r["families"]?.arrayValue ?? []).prefix(5) {
            let shown = fam["examples"]?.arrayValue.flatMap { $0.isEmpty ? nil : $0 } ?? fam["members"]?.arrayValue ?? []
            let members = shown.prefix(6).map {
                "\($0["repo"]?.stringValue ?? "?"):\($0["qualified_name"]?.stringValue ?? "?")"
            }
            let cohesion = fam["mean_similarity"]?.doubleValue.map { String(format: ", mean similarity %.3f", $0) } ?? ""
            lines.append("  family of \(fam["size"]?.intValue ?? 0) over \(fam["repositories"]?.arrayValue?.count ?? 0) repositories\(cohesion): "
                         + "\(members.joined(separator: ", "))\((fam["size"]?.intValue ?? 0) > members.count ? ", …" : "")")
        }
        return lines.joined(separator: "\n")
    }
}

/// Text tables of analysis results (also used for the README).
enum ProbeTable {
    static func scores(_ v: JSONValue?) -> String {
        guard let m = v?["mean"]?.doubleValue, let s = v?["std"]?.doubleValue else { return "-" }
        return String(format: "%.3f ± %.3f", m, s)
    }

    static func render(_ r: JSONValue) -> String {
        var lines = ["space \(r["space"]?.stringValue ?? "?") · n \(r["n"]?.intValue ?? 0) · \(r["folds"]?.intValue ?? 0) folds grouped by \(r["group_by"]?.stringValue ?? "?") (\(r["groups"]?.intValue ?? 0) groups) · trivial feature \(r["trivial_feature"]?.stringValue ?? "?")"]
        lines.append(pad(["target", "metric", "probe", "shuffled labels", "trivial feature", "n"]))
        for t in r["results"]?.arrayValue ?? [] {
            lines.append(pad([t["target"]?.stringValue ?? "?", t["metric"]?.stringValue ?? "?", scores(t),
                              scores(t["controls"]?["shuffled"]), scores(t["controls"]?["trivial"]), "\(t["n"]?.intValue ?? 0)"]))
        }
        for s in r["skipped"]?.arrayValue ?? [] {
            lines.append("skipped \(s["target"]?.stringValue ?? "?"): \(s["reason"]?.stringValue ?? "")")
        }
        return lines.joined(separator: "\n")
    }

    static func pad(_ cells: [String]) -> String {
        let widths = [24, 18, 16, 16, 16, 7]
        return zip(cells, widths).map { c, w in c.count >= w ? c + " " : c + String(repeating: " ", count: w - c.count) }.joined()
    }
}

enum LayerSweepTable {
    static func render(_ r: JSONValue) -> String {
        func num(_ v: JSONValue?, _ f: String) -> String { v?.doubleValue.map { String(format: f, $0) } ?? "-" }
        var lines = ["model \(r["model"]?.stringValue ?? "?") · sample \(r["sample"]?.intValue ?? 0) · \(r["folds"]?.intValue ?? 0) folds grouped by \(r["group_by"]?.stringValue ?? "?")"]
        lines.append("layer  kind            n       mean cos  cos std  eff. rank  R² loc           R² complexity")
        for row in r["rows"]?.arrayValue ?? [] {
            let kind = row["kind"]?.stringValue ?? "?"
            lines.append(String(format: "%5d  ", row["layer"]?.intValue ?? 0) + kind.padding(toLength: 16, withPad: " ", startingAt: 0)
                + "\(row["n"]?.intValue ?? 0)".padding(toLength: 8, withPad: " ", startingAt: 0)
                + num(row["mean_cosine"], "%8.3f") + " " + num(row["cosine_std"], "%8.3f") + " " + num(row["effective_rank"], "%10.1f") + "  "
                + (num(row["loc_r2"], "%.3f") + " ± " + num(row["loc_r2_std"], "%.3f")).padding(toLength: 17, withPad: " ", startingAt: 0)
                + num(row["complexity_r2"], "%.3f") + " ± " + num(row["complexity_r2_std"], "%.3f"))
        }
        return lines.joined(separator: "\n")
    }
}
