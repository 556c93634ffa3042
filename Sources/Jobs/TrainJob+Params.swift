import Core
import Foundation
import Training

extension TrainJob {
    /// How functions are grouped for the seeded 80/10/10 split (no group in two parts).
    public enum SplitBy: String, Sendable, CaseIterable {
        /// By repository (the seed's protocol; needs ≥ 3 repositories).
        case repository
        /// By repository and top-level directory (or top-level file): for a single large repository
        /// such as the standard library, where `email/`, `asyncio/`, `os.py` … become the groups.
        case directory
    }

    /// A `train` job's parameters, checked.
    ///
    /// ```swift
    /// let p = try TrainJob.Params(["input_space": "m.L3.sig_tokens", "target_space": "m.L3.body_mean",
    ///                              "model": "sig_predictor", "loss": "infonce", "epochs": 20])
    /// p.config.model.kind   // .sigPredictor (dims are filled in from the spaces at run time)
    /// ```
    public struct Params: Sendable {
        public var inputSpace: String
        public var targetSpace: String
        public var outputSpace: String?
        public var splitBy: SplitBy
        /// The training configuration with `inputDim`/`outputDim` still 0.
        public var config: TrainingConfig

        public init(_ p: JSONValue) throws {
            guard let fields = p.objectValue else { throw bad("train params must be a JSON object") }
            for key in fields.keys where !TrainJob.reserved.contains(key) && TrainJob.configKeys[key] == nil {
                throw bad("unknown train parameter '\(key)'; known: \((TrainJob.reserved + TrainJob.configKeys.keys).sorted().joined(separator: ", "))")
            }
            func name(_ key: String, required: Bool) throws -> String? {
                guard let v = fields[key] else {
                    if required { throw bad("train needs '\(key)': the name of a space") }
                    return nil
                }
                guard let s = v.stringValue, !s.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw bad("'\(key)' must be a non-empty string (a space name)")
                }
                return s
            }
            inputSpace = try name("input_space", required: true)!
            targetSpace = try name("target_space", required: true)!
            outputSpace = try name("output_space", required: false)
            if let s = fields["split_by"] {
                guard let v = s.stringValue.flatMap(SplitBy.init(rawValue:)) else {
                    throw bad("split_by must be one of \(SplitBy.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                splitBy = v
            } else {
                splitBy = .repository
            }

            // Flat snake_case params → the nested TrainingConfig JSON, decoded leniently.
            var sections: [String: [String: JSONValue]] = ["": [:], "model": [:], "optimizer": [:]]
            for (key, value) in fields {
                guard let (section, target, type) = TrainJob.configKeys[key] else { continue }
                var v = value
                switch type {
                case .int:
                    guard let i = value.intValue, case .number = value else { throw bad("'\(key)' must be an integer, got \(value.jsonString())") }
                    guard i >= 0 else { throw bad("'\(key)' must not be negative, got \(i)") }
                case .number:
                    guard case .number(let d) = value, d.isFinite else { throw bad("'\(key)' must be a number, got \(value.jsonString())") }
                    guard d >= 0 else { throw bad("'\(key)' must not be negative, got \(d)") }
                case .bool:
                    guard case .bool = value else { throw bad("'\(key)' must be true or false, got \(value.jsonString())") }
                case .model:
                    guard let s = value.stringValue, let k = TrainJob.modelNames[s.lowercased()] else {
                        throw bad("model must be one of \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")), got \(value.jsonString())")
                    }
                    v = .string(k.rawValue)
                case .loss:
                    guard let s = value.stringValue, let l = TrainJob.lossNames[s.lowercased()] else {
                        throw bad("loss must be smooth_l1 or infonce (info_nce), got \(value.jsonString())")
                    }
                    v = .string(l.rawValue)
                }
                if sections[section]![target] != nil { throw bad("'\(key)' repeats another name of the same setting") }
                sections[section]![target] = v
            }
            var root = sections[""]!
            root["model"] = .object(sections["model"]!)
            root["optimizer"] = .object(sections["optimizer"]!)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            do {
                config = try decoder.decode(TrainingConfig.self, from: Data(JSONValue.object(root).jsonString().utf8))
            } catch {
                throw bad("invalid training parameters: \(error)")
            }
            // Check everything but the dimensions (known once the spaces are read).
            var probe = config
            probe.model.inputDim = 1
            probe.model.outputDim = 1
            do { try probe.validate() } catch let e as TrainingError {
                throw APIError.badRequest(e.description, code: "invalid_parameter")
            }
        }
    }

    enum ValueType { case int, number, bool, model, loss }

    /// Params that are not training settings.
    static let reserved = ["input_space", "target_space", "output_space", "split_by"]

    /// Job param → (section of TrainingConfig, its snake_case key, type). Several names may map to one setting.
    static let configKeys: [String: (String, String, ValueType)] = [
        "batch_size": ("", "batch_size", .int), "epochs": ("", "epochs", .int), "seed": ("", "seed", .int),
        "max_tokens": ("", "max_tokens", .int), "hard_negatives": ("", "hard_negatives", .int),
        "patience": ("", "patience", .int), "eval_batch_size": ("", "eval_batch_size", .int),
        "model": ("model", "kind", .model), "loss": ("model", "loss", .loss),
        "d_model": ("model", "d_model", .int), "heads": ("model", "heads", .int),
        "ffn": ("model", "ffn_dim", .int), "ffn_dim": ("model", "ffn_dim", .int), "layers": ("model", "layers", .int),
        "mlp_hidden": ("model", "mlp_hidden", .int), "dropout": ("model", "dropout", .number),
        "final_norm": ("model", "final_norm", .bool), "layer_norm_eps": ("model", "layer_norm_eps", .number),
        "symmetric": ("model", "symmetric", .bool), "temperature": ("model", "temperature_init", .number),
        "temperature_init": ("model", "temperature_init", .number), "temperature_min": ("model", "temperature_min", .number),
        "temperature_max": ("model", "temperature_max", .number), "learn_temperature": ("model", "learn_temperature", .bool),
        "lr": ("optimizer", "learning_rate", .number), "learning_rate": ("optimizer", "learning_rate", .number),
        "beta1": ("optimizer", "beta1", .number), "beta2": ("optimizer", "beta2", .number), "eps": ("optimizer", "eps", .number),
        "weight_decay": ("optimizer", "weight_decay", .number), "grad_clip": ("optimizer", "grad_clip", .number),
        "warmup_steps": ("optimizer", "warmup_steps", .int), "min_lr_ratio": ("optimizer", "min_learning_rate_ratio", .number),
        "min_learning_rate_ratio": ("optimizer", "min_learning_rate_ratio", .number),
    ]

    static let modelNames: [String: ModelKind] = ["mlp": .mlp, "sig_predictor": .sigPredictor, "sigpredictor": .sigPredictor]
    static let lossNames: [String: LossKind] = ["smooth_l1": .smoothL1, "smoothl1": .smoothL1, "infonce": .infoNCE, "info_nce": .infoNCE]
}

private func bad(_ message: String) -> APIError { .badRequest(message, code: "invalid_parameter") }
