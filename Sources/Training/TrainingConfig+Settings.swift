import Core

/// One setting of a training run as every surface names it: the `train` job's param (and its
/// aliases), the `swejepa train` option, the field of the config file (`config.json` of a
/// checkpoint, camelCase within its section), its type, default (the `TrainingConfig` one) and range.
/// `TrainingConfig.settings` is the one list; jobs, the CLI and config decoding read it.
///
/// ```swift
/// let s = TrainingConfig.setting("lr")!          // found by alias too
/// s.name                                         // "lr"; s.field "learningRate" in section .optimizer
/// s.defaultText                                  // "0.0003"
/// ```
public struct TrainSetting: Sendable {
    public enum Section: String, Sendable { case root = "", model, optimizer }

    /// The job param and the CLI option (`--batch-size` for `batch_size`).
    public let name: String
    /// Other job param names of the same setting (`learning_rate` for `lr`).
    public let aliases: [String]
    public let section: Section
    /// The field in the config file (camelCase, within `section`).
    public let field: String
    public let help: String
    /// False for settings a job does not take (the dimensions come from the spaces).
    public let isJobParam: Bool
    /// Decodes the value at `key` of `c` into `config` when present; false when absent or null.
    let read: @Sendable (inout TrainingConfig, KeyedDecodingContainer<SettingKey>, SettingKey) throws -> Bool
    let current: @Sendable (TrainingConfig) -> String

    /// Every name a job may give this setting.
    public var names: [String] { [name] + aliases }
    /// The default, as text (for help).
    public var defaultText: String { current(TrainingConfig.defaults) }

    /// Reads `key` of `c` (present and not null) into `config`: a `DecodingError` naming the key
    /// when the type is wrong or the value out of range.
    public func decode(into config: inout TrainingConfig, from c: KeyedDecodingContainer<SettingKey>, key: String) throws -> Bool {
        try read(&config, c, SettingKey(key))
    }
}

/// A string coding key (settings are looked up by name).
public struct SettingKey: CodingKey, Sendable {
    public let stringValue: String
    public var intValue: Int? { nil }
    public init(_ s: String) { stringValue = s }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

/// Closed or half-open numeric bounds of a setting.
private struct Bounds: Sendable {
    var min: Double?, minOpen = false, max: Double?, maxOpen = false
    func contains(_ x: Double) -> Bool {
        if let min, minOpen ? x <= min : x < min { return false }
        if let max, maxOpen ? x >= max : x > max { return false }
        return x.isFinite
    }
    var text: String {
        func f(_ x: Double) -> String { x.rounded() == x ? String(Int(x)) : String(x) }
        switch (min, max) {
        case (let lo?, let hi?): return "in \(minOpen ? "(" : "[")\(f(lo)), \(f(hi))\(maxOpen ? ")" : "]")"
        case (let lo?, nil): return minOpen ? "> \(f(lo))" : "≥ \(f(lo))"
        case (nil, let hi?): return maxOpen ? "< \(f(hi))" : "≤ \(f(hi))"
        default: return "finite"
        }
    }
    static func atLeast(_ x: Double) -> Bounds { Bounds(min: x) }
    static let positive = Bounds(min: 0, minOpen: true)
    static let nonNegative = Bounds(min: 0)
    static let unitOpen = Bounds(min: 0, max: 1, maxOpen: true)
}

extension TrainSetting {
    fileprivate static func make<V: Decodable & Sendable>(
        _ name: String, _ section: Section, _ field: String, _ path: WritableKeyPath<TrainingConfig, V> & Sendable,
        job: Bool = true, _ help: String, aliases: [String] = [], check: @escaping @Sendable (V) -> String? = { _ in nil }, show: @escaping @Sendable (V) -> String = { "\($0)" }
    ) -> TrainSetting {
        TrainSetting(name: name, aliases: aliases, section: section, field: field, help: help, isJobParam: job,
                     read: { config, c, key in
                         guard c.contains(key), try !c.decodeNil(forKey: key) else { return false }
                         let v = try c.decode(V.self, forKey: key)
                         if let problem = check(v) { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: problem) }
                         config[keyPath: path] = v
                         return true
                     },
                     current: { show($0[keyPath: path]) })
    }

    /// Whole-number settings are at most 10⁹ (a bound a JSON number carries exactly; the spec says it too).
    static let intMax = 1_000_000_000

    static func int(_ name: String, _ section: Section, _ field: String, _ path: WritableKeyPath<TrainingConfig, Int> & Sendable,
                    job: Bool = true, min: Int, _ help: String, aliases: [String] = []) -> TrainSetting {
        make(name, section, field, path, job: job, help, aliases: aliases,
             check: { (min...intMax).contains($0) ? nil : "must be in \(min)...\(intMax), got \($0)" })
    }

    fileprivate static func number(_ name: String, _ section: Section, _ field: String, _ path: WritableKeyPath<TrainingConfig, Double> & Sendable,
                                   _ bounds: Bounds, _ help: String, aliases: [String] = []) -> TrainSetting {
        make(name, section, field, path, help, aliases: aliases, check: { bounds.contains($0) ? nil : "must be \(bounds.text), got \($0)" })
    }

    static func flag(_ name: String, _ section: Section, _ field: String, _ path: WritableKeyPath<TrainingConfig, Bool> & Sendable,
                     _ help: String) -> TrainSetting {
        make(name, section, field, path, help)
    }

    /// A choice among an enum's cases; `spellings` are extra accepted names (lowercased input).
    static func choice<E: RawRepresentable & CaseIterable & Sendable & Decodable>(
        _ name: String, _ section: Section, _ field: String, _ path: WritableKeyPath<TrainingConfig, E> & Sendable,
        spellings: [String: E], _ help: String) -> TrainSetting where E.RawValue == String {
        var names = spellings
        for e in E.allCases { names[e.rawValue] = e }
        let known = E.allCases.map(\.rawValue).joined(separator: ", ")
        return TrainSetting(
            name: name, aliases: [], section: section, field: field, help: help, isJobParam: true,
            read: { [names] config, c, key in
                guard c.contains(key), try !c.decodeNil(forKey: key) else { return false }
                let s = try c.decode(String.self, forKey: key)
                guard let v = names[s.lowercased()] else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be one of \(known), got \"\(s)\"")
                }
                config[keyPath: path] = v
                return true
            },
            current: { $0[keyPath: path].rawValue })
    }
}

extension TrainingConfig {
    /// The defaults every setting starts from (dimensions 0: they come from the data).
    public static let defaults = TrainingConfig(model: ModelConfig(kind: .sigPredictor, inputDim: 0, outputDim: 0))

    /// Every setting of a training run, once: names, config fields, types, defaults (the fields'
    /// initial values) and ranges. Combinations (heads dividing d_model, hard negatives and the
    /// negative queue needing InfoNCE, the temperature order) are `validate()`'s.
    public static let settings: [TrainSetting] = [
        .int("epochs", .root, "epochs", \.epochs, min: 1, "Epochs"),
        .int("batch_size", .root, "batchSize", \.batchSize, min: 2, "Batch size"),
        .make("seed", .root, "seed", \.seed, "Seed (split, initialisation, batches)",
              check: { $0 < (1 << 53) ? nil : "must be in 0...\((1 << 53) - 1), got \($0)" }),
        .int("max_tokens", .root, "maxTokens", \.maxTokens, min: 1, "Signature tokens kept"),
        .int("hard_negatives", .root, "hardNegatives", \.hardNegatives, min: 0, "Hard negatives per function from the target space (infonce only)"),
        .make("queue_size", .root, "queueSize", \.queueSize,
              "Negative queue: targets of the last N trained functions as extra negatives (infonce only, 0 = off)",
              check: { (0...TrainingConfig.maxQueueSize).contains($0) ? nil : "must be in 0...\(TrainingConfig.maxQueueSize), got \($0)" }),
        .int("patience", .root, "patience", \.patience, min: 0, "Early-stopping patience in epochs, 0 = off"),
        .int("eval_batch_size", .root, "evalBatchSize", \.evalBatchSize, min: 1, "Batch size for prediction and evaluation"),
        .choice("model", .model, "kind", \.model.kind, spellings: ["sigpredictor": .sigPredictor, "tokendecoder": .tokenDecoder],
                "Student architecture"),
        .choice("loss", .model, "loss", \.model.loss, spellings: ["infonce": .infoNCE, "smoothl1": .smoothL1], "Loss"),
        .int("input_dim", .model, "inputDim", \.model.inputDim, job: false, min: 0, "Input dimension (from the input space)"),
        .int("output_dim", .model, "outputDim", \.model.outputDim, job: false, min: 0, "Output dimension (from the target space)"),
        .int("d_model", .model, "dModel", \.model.dModel, min: 1, "Transformer width"),
        .int("heads", .model, "heads", \.model.heads, min: 1, "Attention heads"),
        .int("ffn", .model, "ffnDim", \.model.ffnDim, min: 1, "Feed-forward width", aliases: ["ffn_dim"]),
        .int("layers", .model, "layers", \.model.layers, min: 0, "Transformer blocks"),
        .make("max_target_tokens", .model, "maxTargetTokens", \.model.maxTargetTokens,
              "token_decoder: body tokens predicted per function (the first N)",
              check: { (1...ModelConfig.maxTargetTokensLimit).contains($0) ? nil : "must be in 1...\(ModelConfig.maxTargetTokensLimit), got \($0)" }),
        .int("decoder_layers", .model, "decoderLayers", \.model.decoderLayers, min: 0, "token_decoder: cross-attention decoder blocks"),
        .number("token_loss_weight", .model, "tokenLossWeight", \.model.tokenLossWeight, .nonNegative,
                "token_decoder: weight of the per-token cosine loss beside the pooled InfoNCE"),
        .int("mlp_hidden", .model, "mlpHidden", \.model.mlpHidden, min: 1, "MLP hidden width"),
        .number("dropout", .model, "dropout", \.model.dropout, .unitOpen, "Dropout"),
        .flag("final_norm", .model, "finalNorm", \.model.finalNorm, "LayerNorm after the last block"),
        .number("layer_norm_eps", .model, "layerNormEps", \.model.layerNormEps, .positive, "LayerNorm epsilon"),
        .flag("symmetric", .model, "symmetric", \.model.symmetric, "Symmetric InfoNCE"),
        .number("temperature", .model, "temperatureInit", \.model.temperatureInit, .positive, "Initial InfoNCE temperature",
                aliases: ["temperature_init"]),
        .number("temperature_min", .model, "temperatureMin", \.model.temperatureMin, .positive, "Lowest temperature"),
        .number("temperature_max", .model, "temperatureMax", \.model.temperatureMax, .positive, "Highest temperature"),
        .flag("learn_temperature", .model, "learnTemperature", \.model.learnTemperature, "Learn the temperature"),
        .number("lr", .optimizer, "learningRate", \.optimizer.learningRate, .positive, "Peak learning rate", aliases: ["learning_rate"]),
        .number("beta1", .optimizer, "beta1", \.optimizer.beta1, .unitOpen, "Adam beta1"),
        .number("beta2", .optimizer, "beta2", \.optimizer.beta2, .unitOpen, "Adam beta2"),
        .number("eps", .optimizer, "eps", \.optimizer.eps, .positive, "Adam epsilon"),
        .number("weight_decay", .optimizer, "weightDecay", \.optimizer.weightDecay, .nonNegative, "AdamW weight decay"),
        .number("grad_clip", .optimizer, "gradClip", \.optimizer.gradClip, .nonNegative, "Gradient norm clip, 0 = off"),
        .make("warmup_steps", .optimizer, "warmupSteps", \.optimizer.warmupSteps, "Linear warmup steps (default 5 % of all steps)",
              check: { $0.map { (0...TrainSetting.intMax).contains($0) ? nil : "must be in 0...\(TrainSetting.intMax), got \($0)" } ?? nil }, show: { $0.map(String.init) ?? "5 % of all steps" }),
        .number("min_lr_ratio", .optimizer, "minLearningRateRatio", \.optimizer.minLearningRateRatio,
                Bounds(min: 0, max: 1), "Final learning rate as a share of the peak", aliases: ["min_learning_rate_ratio"]),
    ]

    /// The setting a job param or CLI name (or alias) names.
    public static func setting(_ name: String) -> TrainSetting? { settings.first { $0.names.contains(name) } }

    /// Reads the settings of `section` from a config-file container (fields by their camelCase name).
    mutating func read(_ section: TrainSetting.Section, from c: KeyedDecodingContainer<SettingKey>) throws {
        for s in Self.settings where s.section == section { _ = try s.read(&self, c, SettingKey(s.field)) }
    }
}
