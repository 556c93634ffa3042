import Foundation

// Lenient decoding: every field may be omitted and takes its default, so a job's parameters can
// name only what they change (decode with `.convertFromSnakeCase` for snake_case JSON). The fields,
// their types and ranges are `TrainingConfig.settings`; encoding is the synthesized one.
//
//     let dec = JSONDecoder(); dec.keyDecodingStrategy = .convertFromSnakeCase
//     var c = try dec.decode(TrainingConfig.self, from: #"{"model":{"kind":"mlp"},"batch_size":32}"#.data(using: .utf8)!)
//     c.model.inputDim = 384; c.model.outputDim = 384     // from the spaces; then c.validate()

extension ModelConfig {
    public init(from decoder: Decoder) throws {
        var t = TrainingConfig.defaults
        try t.read(.model, from: decoder.container(keyedBy: SettingKey.self))
        self = t.model
    }
}

extension OptimizerConfig {
    public init(from decoder: Decoder) throws {
        var t = TrainingConfig.defaults
        try t.read(.optimizer, from: decoder.container(keyedBy: SettingKey.self))
        self = t.optimizer
    }
}

extension TrainingConfig {
    public init(from decoder: Decoder) throws {
        self = .defaults
        let c = try decoder.container(keyedBy: SettingKey.self)
        try read(.root, from: c)
        model = try c.decodeIfPresent(ModelConfig.self, forKey: SettingKey("model")) ?? model
        optimizer = try c.decodeIfPresent(OptimizerConfig.self, forKey: SettingKey("optimizer")) ?? optimizer
    }
}
