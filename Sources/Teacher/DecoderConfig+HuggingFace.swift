import Foundation

extension DecoderConfig {
    /// The fields of a Hugging Face decoder's `config.json` that the forward needs (`model_type`
    /// llama / qwen2 / qwen3). Unknown fields are ignored; a field of the wrong JSON type is an error.
    ///
    /// ```swift
    /// let file = try DecoderConfig.HuggingFaceFile(contentsOf: dir.appendingPathComponent("config.json"))
    /// let config = try DecoderConfig(huggingFace: file, vocabSize: 151_936)
    /// ```
    public struct HuggingFaceFile: Decodable, Sendable {
        public struct RopeScaling: Decodable, Sendable {
            public var type: String?
            public var rope_type: String?
            public var factor: Double?
            public var rope_theta: Double?
        }
        public var model_type: String
        public var hidden_size: Int?
        public var num_hidden_layers: Int?
        public var num_attention_heads: Int?
        public var num_key_value_heads: Int?
        public var intermediate_size: Int?
        public var head_dim: Int?
        public var rms_norm_eps: Double?
        public var rope_theta: Double?
        public var rope_scaling: RopeScaling?
        /// transformers ≥ 5 writes `rope_theta` and the scaling type here.
        public var rope_parameters: RopeScaling?
        public var max_position_embeddings: Int?
        public var vocab_size: Int?
        public var tie_word_embeddings: Bool?
        public var attention_bias: Bool?
        public var mlp_bias: Bool?
        public var hidden_act: String?
        public var use_sliding_window: Bool?
        public var partial_rotary_factor: Double?

        /// Reads and decodes `config.json`; `invalidConfig` names what is wrong.
        public init(contentsOf url: URL) throws {
            guard let data = try? Data(contentsOf: url) else { throw TeacherError.missingFile(url.lastPathComponent) }
            do { self = try JSONDecoder().decode(HuggingFaceFile.self, from: data) } catch {
                throw TeacherError.invalidConfig("\(url.lastPathComponent): \(Self.describe(error))")
            }
        }

        /// Q, K and V projections carry biases (always in qwen2; with `attention_bias` in llama and qwen3).
        public var hasQKVBias: Bool { model_type == "qwen2" || attention_bias == true }
        /// The output projection carries a bias (`attention_bias` in llama and qwen3; never in qwen2).
        public var hasOutputBias: Bool { model_type != "qwen2" && attention_bias == true }

        static func describe(_ error: Error) -> String {
            func path(_ c: DecodingError.Context) -> String { c.codingPath.map(\.stringValue).joined(separator: ".") }
            switch error {
            case DecodingError.dataCorrupted(let c): return c.codingPath.isEmpty ? "not JSON (\(c.debugDescription))" : "\(path(c)): \(c.debugDescription)"
            case DecodingError.typeMismatch(let t, let c): return "\(path(c)) is not \(t == String.self ? "a string" : "a \(t)")"
            case DecodingError.valueNotFound(_, let c): return "\(path(c)) is null"
            case DecodingError.keyNotFound(let k, _): return "\(k.stringValue) missing"
            default: return "\(error)"
            }
        }
    }

    /// The largest width, head count, layer count and context accepted from a `config.json`: far
    /// above any released model, low enough that every product of them fits in an Int.
    static let huggingFaceLimits = (width: 1 << 17, heads: 1 << 12, layers: 1 << 12, context: 1 << 24)

    /// A config from a Hugging Face `config.json` (see `HuggingFaceFile`) and the vocabulary size (the
    /// rows of `model.embed_tokens.weight`). Defaults are transformers' (rms_norm_eps 1e-6, rope_theta
    /// 10,000, num_key_value_heads = heads, head_dim = hidden / heads, Qwen3's head_dim 128); RoPE
    /// scaling `null`, `default` and `linear` are supported, the others (`llama3`, `yarn`, `dynamic`,
    /// `longrope`) refused by name.
    public init(huggingFace f: HuggingFaceFile, vocabSize: Int) throws {
        guard let arch = Architecture(rawValue: f.model_type) else {
            throw TeacherError.unsupportedArchitecture("model_type \(f.model_type) (decoders: llama, qwen2, qwen3)")
        }
        let limits = Self.huggingFaceLimits
        func required(_ key: String, _ value: Int?, max: Int) throws -> Int {
            guard let value else { throw TeacherError.invalidConfig("\(key) missing") }
            guard value > 0, value <= max else { throw TeacherError.invalidConfig("\(key) is \(value) (expected 1 … \(max))") }
            return value
        }
        if let act = f.hidden_act, act != "silu" {
            throw TeacherError.invalidConfig("hidden_act \(act) is not supported (silu is)")
        }
        if f.mlp_bias == true { throw TeacherError.invalidConfig("mlp_bias true is not supported") }
        if f.use_sliding_window == true { throw TeacherError.invalidConfig("use_sliding_window true is not supported") }
        if let p = f.partial_rotary_factor, p != 1 { throw TeacherError.invalidConfig("partial_rotary_factor \(p) is not supported") }
        architecture = arch
        hiddenSize = try required("hidden_size", f.hidden_size, max: limits.width)
        layerCount = try required("num_hidden_layers", f.num_hidden_layers, max: limits.layers)
        headCount = try required("num_attention_heads", f.num_attention_heads, max: limits.heads)
        kvHeadCount = try required("num_key_value_heads", f.num_key_value_heads ?? headCount, max: limits.heads)
        intermediateSize = try required("intermediate_size", f.intermediate_size, max: limits.width)
        guard headCount % kvHeadCount == 0 else {
            throw TeacherError.invalidConfig("num_attention_heads \(headCount) do not split into \(kvHeadCount) key/value groups")
        }
        if let h = f.head_dim {
            headDim = try required("head_dim", h, max: limits.width)
        } else if arch == .qwen3 {
            headDim = 128  // transformers' Qwen3Config default
        } else {
            guard hiddenSize % headCount == 0 else {
                throw TeacherError.invalidConfig("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(headCount)")
            }
            headDim = hiddenSize / headCount
        }
        guard headDim % 2 == 0 else { throw TeacherError.invalidConfig("head dimension \(headDim) is odd (RoPE rotates pairs)") }
        guard headCount * headDim <= limits.width else {
            throw TeacherError.invalidConfig("num_attention_heads × head_dim = \(headCount * headDim) exceeds \(limits.width)")
        }
        let eps = f.rms_norm_eps ?? 1e-6
        guard eps.isFinite, eps > 0, eps < 1 else { throw TeacherError.invalidConfig("rms_norm_eps \(eps)") }
        rmsNormEps = Float(eps)
        let rope = f.rope_parameters ?? f.rope_scaling
        ropeBase = f.rope_parameters?.rope_theta ?? f.rope_theta ?? 10_000
        guard ropeBase.isFinite, ropeBase > 1 else { throw TeacherError.invalidConfig("rope_theta \(ropeBase)") }
        switch rope?.rope_type ?? rope?.type ?? "default" {
        case "default": ropeScaling = .none
        case "linear":
            let factor = rope?.factor ?? 1
            guard factor.isFinite, factor > 0 else { throw TeacherError.invalidConfig("rope_scaling factor \(factor)") }
            ropeScaling = factor == 1 ? .none : .linear(factor: factor)
        case let other:
            throw TeacherError.invalidConfig("rope_scaling type \(other) is not supported (null, default and linear are)")
        }
        contextLength = try required("max_position_embeddings", f.max_position_embeddings ?? (arch == .llama ? 2048 : 32768), max: limits.context)
        guard vocabSize > 0, vocabSize < Int(Int32.max) else { throw TeacherError.invalidConfig("vocabulary of \(vocabSize) tokens") }
        self.vocabSize = vocabSize
    }
}
