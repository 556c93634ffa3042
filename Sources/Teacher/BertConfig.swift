import Foundation

/// The fields of a Hugging Face BERT `config.json` that the forward pass needs.
///
/// ```swift
/// let config = try BertConfig(contentsOf: modelDir.appendingPathComponent("config.json"))
/// print(config.numHiddenLayers, config.hiddenSize)   // 6 384 for all-MiniLM-L6-v2
/// ```
public struct BertConfig: Sendable, Equatable {
    public enum Activation: String, Sendable {
        /// Exact GELU, x·Φ(x) with erf (HF "gelu").
        case gelu
        /// Tanh approximation (HF "gelu_new", "gelu_pytorch_tanh", "gelu_fast").
        case geluTanh
        case relu
    }

    /// `model_type` values whose checkpoints are plain BERT encoders (absolute positions, post-LN).
    public static let supportedModelTypes: Set<String> = ["bert"]

    public var modelType = "bert"
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var hiddenAct: Activation

    public var headDim: Int { hiddenSize / numAttentionHeads }

    public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                intermediateSize: Int, maxPositionEmbeddings: Int = 512, typeVocabSize: Int = 2,
                layerNormEps: Float = 1e-12, hiddenAct: Activation = .gelu) {
        self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads; self.intermediateSize = intermediateSize
        self.maxPositionEmbeddings = maxPositionEmbeddings; self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps; self.hiddenAct = hiddenAct
    }

    /// Parses and validates `config.json`; other architectures throw `unsupportedArchitecture`.
    public init(contentsOf url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { throw TeacherError.missingFile(url.path) }
        guard let data = try? Data(contentsOf: url),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TeacherError.invalidConfig("not a JSON object")
        }
        try self.init(json: obj)
    }

    public init(json obj: [String: Any]) throws {
        let architectures = obj["architectures"] as? [String] ?? []
        let modelType = obj["model_type"] as? String
            ?? (architectures.contains { $0.hasPrefix("Bert") } ? "bert" : "unknown")
        guard Self.supportedModelTypes.contains(modelType) else {
            throw TeacherError.unsupportedArchitecture("model_type \(modelType) (architectures \(architectures)); supported: BERT encoders (model_type \"bert\")")
        }
        if let pos = obj["position_embedding_type"] as? String, pos != "absolute" {
            throw TeacherError.unsupportedArchitecture("position_embedding_type \(pos) (only absolute)")
        }
        if obj["is_decoder"] as? Bool == true { throw TeacherError.unsupportedArchitecture("BERT decoder") }
        func int(_ key: String, default d: Int? = nil) throws -> Int {
            if let v = obj[key] as? Int, v > 0 { return v }
            if obj[key] == nil, let d { return d }
            throw TeacherError.invalidConfig("\(key) is missing or not a positive integer")
        }
        let act: Activation
        switch obj["hidden_act"] as? String ?? "gelu" {
        case "gelu": act = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": act = .geluTanh
        case "relu": act = .relu
        case let other: throw TeacherError.unsupportedArchitecture("hidden_act \(other)")
        }
        let eps = (obj["layer_norm_eps"] as? Double).map(Float.init) ?? 1e-12
        guard eps > 0 else { throw TeacherError.invalidConfig("layer_norm_eps must be positive") }
        self.init(vocabSize: try int("vocab_size"), hiddenSize: try int("hidden_size"),
                  numHiddenLayers: try int("num_hidden_layers"), numAttentionHeads: try int("num_attention_heads"),
                  intermediateSize: try int("intermediate_size"),
                  maxPositionEmbeddings: try int("max_position_embeddings", default: 512),
                  typeVocabSize: try int("type_vocab_size", default: 2), layerNormEps: eps, hiddenAct: act)
        self.modelType = modelType
        guard hiddenSize % numAttentionHeads == 0 else {
            throw TeacherError.invalidConfig("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
        }
    }

    /// Multiply-adds ×2 per token of one forward pass over a sequence of `length` tokens:
    /// the dense layers (QKV, output, FFN) plus attention's scores and weighted sum (4·T·D per layer).
    public func flopsPerToken(sequenceLength t: Int) -> Double {
        let d = Double(hiddenSize), i = Double(intermediateSize)
        let dense = 2 * (4 * d * d + 2 * d * i)
        let attention = 4 * Double(t) * d
        return Double(numHiddenLayers) * (dense + attention)
    }
}
