import Core
import Foundation
import Training

/// The training settings (`TrainingConfig.settings`), for the CLI and other users of Jobs.
public typealias TrainSetting = Training.TrainSetting

extension TrainJob {
    /// How functions are grouped for the seeded 80/10/10 split (no group in two parts).
    public enum SplitBy: String, Sendable, CaseIterable {
        /// By repository (the seed's protocol; needs ≥ 3 repositories).
        case repository
        /// By repository and top-level directory (or top-level file): for a single large repository
        /// such as the standard library, where `email/`, `asyncio/`, `os.py` … become the groups.
        case directory
    }

    /// Every training setting (names, defaults, ranges): `TrainingConfig.settings`, shared with the
    /// CLI's `swejepa train` options and the config files.
    public static var settings: [TrainSetting] { TrainingConfig.settings.filter(\.isJobParam) }

    /// Params that are not training settings.
    static let reserved = ["input_space", "target_space", "target_tokens_space", "output_space", "split_by", "folds"]

    /// A `train` job's parameters, checked: the spaces, and flat snake_case training settings
    /// (`TrainingConfig.settings`, any of their names) applied to the default configuration.
    ///
    /// ```swift
    /// let p = try TrainJob.Params.decode(["input_space": "m.L3.sig_tokens", "target_space": "m.L3.body_mean",
    ///                                     "model": "sig_predictor", "loss": "infonce", "epochs": 20], job: "train")
    /// p.config.model.kind   // .sigPredictor (dims are filled in from the spaces at run time)
    /// ```
    public struct Params: JobParams, Equatable {
        public var inputSpace: String
        public var targetSpace: String
        public var outputSpace: String?
        /// `token_decoder` only (and required there): a token space of the target's dim whose rows
        /// are the teacher's hidden states at the body tokens (e.g. `body_tokens`).
        public var targetTokensSpace: String?
        public var splitBy = SplitBy.repository
        /// k-fold evaluation by repository (2…20; nil: the single 80/10/10 split): k models, each tested
        /// on one fold's repositories (`DataSplit.folds`). The student space holds each function's
        /// out-of-fold prediction; no checkpoint is written.
        public var folds: Int?
        /// The training configuration with `inputDim`/`outputDim` still 0.
        public var config = TrainingConfig.defaults

        public static let knownKeys: Set<String>? = Set(TrainJob.reserved + TrainJob.settings.flatMap(\.names))

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: SettingKey.self)
            inputSpace = try c.requiredString(SettingKey("input_space"))
            targetSpace = try c.requiredString(SettingKey("target_space"))
            outputSpace = try c.nonEmptyString(SettingKey("output_space"))
            targetTokensSpace = try c.nonEmptyString(SettingKey("target_tokens_space"))
            splitBy = try c.choice(SettingKey("split_by"), default: splitBy)
            folds = try c.decodeIfPresent(Int.self, forKey: SettingKey("folds"))
            for setting in TrainJob.settings {
                var given = [String]()
                for name in setting.names where try setting.decode(into: &config, from: c, key: name) { given.append(name) }
                if given.count > 1 {  // a rule between two fields: 422 (the spec cannot say it)
                    throw APIError.unprocessable("'\(given[1])' repeats '\(given[0])' (two names of one setting)", code: "repeated_setting")
                }
            }
        }

        /// Everything but the dimensions (known once the spaces are read). Single settings were
        /// checked as they were decoded (400); what is left are rules between settings (`heads`
        /// dividing `d_model`, `hard_negatives` needing `infonce`, the temperature order): a 422.
        public func validate() throws {
            for (key, name) in [("input_space", inputSpace), ("target_space", targetSpace), ("output_space", outputSpace),
                                ("target_tokens_space", targetTokensSpace)] {
                try JobParamsCheck.spaceName(key, name)
            }
            try JobParamsCheck.range("folds", folds, 2...DataSplit.maxFolds)
            if config.model.kind == .tokenDecoder && targetTokensSpace == nil {
                throw APIError.unprocessable("model token_decoder needs target_tokens_space (the body token states to predict)",
                                             code: "invalid_combination")
            }
            if config.model.kind != .tokenDecoder && targetTokensSpace != nil {
                throw APIError.unprocessable("target_tokens_space is for model token_decoder only", code: "invalid_combination")
            }
            var probe = config
            probe.model.inputDim = 1
            probe.model.outputDim = 1
            do { try probe.validate() } catch let e as TrainingError {
                throw APIError.unprocessable(e.description, code: "invalid_combination")
            }
        }
    }
}
