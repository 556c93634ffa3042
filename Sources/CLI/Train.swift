import ArgumentParser
import Core
import Foundation
import Jobs

struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a student (signature → body embedding) on a running server and print its test metrics.",
        discussion: """
            Submits a `train` job: the student learns to predict the target space (e.g. body_mean) from the
            input space (sig_tokens for sig_predictor, sig_mean or sig_tokens for mlp). Functions are split by
            repository 80/10/10, seeded (the split needs 3 repositories or more: ingest the standard library with
            --split-top-level, or train with --split-by directory); early stopping on validation Rank@10; test
            Rank@1/Rank@10/MRR among all functions beside the random and sig_mean baselines. The predictions are stored as a `student` space; checkpoints in
            DATA/checkpoints/job-<id>/. Any other setting: --set key=value (e.g. --set warmup_steps=200).

            --folds K (2…20) trains K models instead, model i tested on fold i's repositories (seeded, by
            repository or directory as --split-by says) and trained/validated on the rest, and prints each fold's
            test metrics and their mean ± std; the student space holds the out-of-fold predictions, no checkpoint.

            Examples:
              swejepa train --input-space all-MiniLM-L6-v2.L3.sig_tokens --target-space all-MiniLM-L6-v2.L3.body_mean \\
                --model sig_predictor --loss infonce --epochs 20
              swejepa train --input-space all-MiniLM-L6-v2.L3.sig_mean --target-space all-MiniLM-L6-v2.L3.body_mean \\
                --model mlp --loss smooth_l1
              swejepa train --input-space all-MiniLM-L6-v2.L3.sig_tokens --target-space all-MiniLM-L6-v2.L3.body_mean \\
                --model sig_predictor --loss infonce --epochs 4 --folds 5
              swejepa train --input-space all-MiniLM-L6-v2.L3.sig_tokens --target-space all-MiniLM-L6-v2.L3.body_mean \\
                --target-tokens-space all-MiniLM-L6-v2.L3.body_tokens --model token_decoder --set max_target_tokens=64
            """)

    @OptionGroup var server: ServerOptions
    @Option(help: "Input space (sig_tokens or sig_mean).") var inputSpace: String
    @Option(help: "Target space (body_mean, body_only_mean …).") var targetSpace: String
    @Option(help: setting("model")) var model: String = TrainingDefaults.text("model")
    @Option(help: setting("loss")) var loss: String = TrainingDefaults.text("loss")
    @Option(help: "Name of the student space (default student.job-<id>).") var outputSpace: String?
    @Option(help: "token_decoder: token space of the body token states to predict (body_tokens …); its dim is the target's.")
    var targetTokensSpace: String?
    @Option(help: "repository or directory.") var splitBy: String?
    @Option(help: "Evaluate over K repository folds (2…20): K models, mean ± std of the test metrics.") var folds: Int?
    @Option(help: setting("epochs")) var epochs: Int?
    @Option(help: setting("batch_size")) var batchSize: Int?
    @Option(help: setting("lr")) var lr: Double?
    @Option(help: setting("seed")) var seed: Int?
    @Option(help: setting("d_model")) var dModel: Int?
    @Option(help: setting("layers")) var layers: Int?
    @Option(help: setting("heads")) var heads: Int?
    @Option(help: setting("ffn")) var ffn: Int?
    @Option(help: setting("mlp_hidden")) var mlpHidden: Int?
    @Option(help: setting("dropout")) var dropout: Double?
    @Option(help: setting("patience")) var patience: Int?
    @Option(help: setting("hard_negatives")) var hardNegatives: Int?
    @Option(help: setting("max_tokens")) var maxTokens: Int?
    @Flag(help: setting("symmetric")) var symmetric = false
    @Option(name: .customLong("set"), help: "Any other train parameter, key=value (repeatable): \(TrainJob.settings.map(\.name).joined(separator: ", ")).") var extra: [String] = []
    @Flag(help: "Return after queueing instead of following the job.") var noWait = false
    @Flag(help: "Print the whole job result as JSON after the table.") var json = false

    func params() throws -> JSONValue {
        var p: [String: JSONValue] = ["type": "train", "input_space": .string(inputSpace), "target_space": .string(targetSpace),
                                      "model": .string(model), "loss": .string(loss)]
        if let outputSpace { p["output_space"] = .string(outputSpace) }
        if let targetTokensSpace { p["target_tokens_space"] = .string(targetTokensSpace) }
        if let splitBy { p["split_by"] = .string(splitBy) }
        if let folds { p["folds"] = .number(Double(folds)) }
        for (k, v) in Self.options(self) { if let v { p[k] = v } }
        for item in extra {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--set takes key=value, got '\(item)'") }
            // JSON when it parses (numbers, true/false), a string otherwise.
            p[parts[0]] = JSONValue.parse(parts[1]) ?? .string(parts[1])
        }
        return .object(p)
    }

    /// The dedicated options, by the name of the training setting each sets (`TrainJob.settings`).
    static func options(_ t: Train) -> [(String, JSONValue?)] {
        func n(_ v: Int?) -> JSONValue? { v.map { .number(Double($0)) } }
        return [("epochs", n(t.epochs)), ("batch_size", n(t.batchSize)), ("seed", n(t.seed)), ("d_model", n(t.dModel)),
                ("layers", n(t.layers)), ("heads", n(t.heads)), ("ffn", n(t.ffn)), ("mlp_hidden", n(t.mlpHidden)),
                ("patience", n(t.patience)), ("hard_negatives", n(t.hardNegatives)), ("max_tokens", n(t.maxTokens)),
                ("lr", t.lr.map(JSONValue.number)), ("dropout", t.dropout.map(JSONValue.number)), ("symmetric", t.symmetric ? true : nil)]
    }

    func run() async throws {
        let job = try await server.client.runJob(try params(), wait: !noWait)
        guard let r = job["result"] else { return }
        Console.line(r["fold_results"] != nil ? Self.foldsTable(r) : Self.table(r))
        if json { Console.line(pretty(r)) }
    }

    /// Test metrics of the student beside the baselines, and where the results went.
    static func table(_ r: JSONValue) -> String {
        func pad(_ s: String) -> String { s.padding(toLength: 22, withPad: " ", startingAt: 0) }
        var lines = [pad("") + "   Rank@1  Rank@10      MRR"]
        func row(_ name: String, _ m: JSONValue?) {
            guard let m, m != .null else { return }
            lines.append(pad(name) + String(format: " %7.2f%% %7.2f%% %8.4f", (m["rank1"]?.doubleValue ?? 0) * 100,
                                            (m["rank10"]?.doubleValue ?? 0) * 100, m["mrr"]?.doubleValue ?? 0))
        }
        row("student (test)", r["test"])
        row("baseline sig_mean", r["signature_mean_baseline"])
        row("baseline random", r["random_baseline"])
        row("student (validation)", r["validation"])
        let epochs = r["epochs"]?.arrayValue?.count ?? 0
        lines.append("")
        lines.append("functions \(r["corpus_count"]?.intValue ?? 0) (train \(r["train_count"]?.intValue ?? 0), validation \(r["validation_count"]?.intValue ?? 0), test \(r["test_count"]?.intValue ?? 0))")
        lines.append("best epoch \(r["best_epoch"]?.intValue ?? 0) of \(epochs)\(r["stopped_early"]?.boolValue == true ? " (stopped early)" : ""), \(r["steps"]?.intValue ?? 0) steps"
                     + (r["seconds"]?.doubleValue.map { String(format: ", %.0f s", $0) } ?? ""))
        lines.append("student space \(r["output_space"]?.stringValue ?? "?"); checkpoint \(r["checkpoint"]?.stringValue ?? "?")")
        return lines.joined(separator: "\n")
    }
}

extension Train {
    /// Each fold's test metrics and best epoch, then mean ± std (n − 1) and the baselines' means.
    static func foldsTable(_ r: JSONValue) -> String {
        func pad(_ s: String) -> String { s.padding(toLength: 22, withPad: " ", startingAt: 0) }
        func pct(_ v: Double?) -> String { String(format: "%7.2f%%", (v ?? 0) * 100) }
        var lines = [pad("") + "   Rank@1  Rank@10      MRR  best epoch  test functions"]
        for f in r["fold_results"]?.arrayValue ?? [] {
            let t = f["test"]
            lines.append(pad("fold \(f["fold"]?.intValue ?? 0)") + " \(pct(t?["rank1"]?.doubleValue)) \(pct(t?["rank10"]?.doubleValue))"
                         + String(format: " %8.4f  %10d  %14d", t?["mrr"]?.doubleValue ?? 0, f["best_epoch"]?.intValue ?? 0,
                                  f["test_count"]?.intValue ?? 0))
        }
        func stats(_ name: String, _ s: JSONValue?) {
            guard let s, s != .null else { return }
            func ms(_ key: String, _ scale: Double, _ format: String) -> String {
                String(format: format, (s[key]?["mean"]?.doubleValue ?? 0) * scale, (s[key]?["std"]?.doubleValue ?? 0) * scale)
            }
            lines.append(pad(name) + " " + ms("rank1", 100, "%.2f ± %.2f%%") + "  " + ms("rank10", 100, "%.2f ± %.2f%%") + "  "
                         + ms("mrr", 1, "%.4f ± %.4f"))
        }
        lines.append("")
        stats("student (test)", r["summary"])
        stats("student (validation)", r["validation_summary"])
        stats("baseline sig_mean", r["signature_mean_baseline_summary"])
        stats("baseline random", r["random_baseline_summary"])
        lines.append("")
        lines.append("\(r["folds"]?.intValue ?? 0) folds by \(r["split_by"]?.stringValue ?? "?") over \(r["corpus_count"]?.intValue ?? 0) functions"
                     + (r["seconds"]?.doubleValue.map { String(format: ", %.0f s", $0) } ?? "") + " (mean ± sample std over folds)")
        lines.append("student space \(r["output_space"]?.stringValue ?? "?") (out-of-fold predictions); no checkpoint")
        return lines.joined(separator: "\n")
    }
}

/// Help of the option for a training setting: its description and default, from `TrainJob.settings`.
private func setting(_ name: String) -> ArgumentHelp {
    guard let s = TrainJob.settings.first(where: { $0.name == name }) else { return ArgumentHelp("(unknown setting \(name))") }
    return ArgumentHelp("\(s.help) (default \(s.defaultText)).")
}

/// Defaults of the training settings, as the CLI sends them.
enum TrainingDefaults {
    static func text(_ name: String) -> String { TrainJob.settings.first { $0.name == name }?.defaultText ?? "" }
}
