import Foundation

/// How a model's positions see each other, which decides how `FunctionEmbedder` gets the signature kinds.
public enum AttentionMask: Sendable, Equatable {
    /// Every token sees every token (BERT): the signature kinds need a pass over the signature alone.
    case bidirectional
    /// A token sees itself and the tokens before it (decoders): the signature's positions of a pass over
    /// `signature + "\n" + body` never see the body, so that one pass gives the signature kinds too.
    case causal
}

/// A teacher: a frozen transformer whose hidden states become embeddings. `BertModel` (Hugging Face BERT
/// folders) and `DecoderModel` (one GGUF file: llama, qwen2, qwen3) are the two families; everything above
/// Teacher (`FunctionEmbedder`, the embed job, `/v1/embed`, search by text) sees only this protocol.
///
/// ```swift
/// let model: any TeacherModel = try DecoderModel.load(path: gguf, name: "smollm2")
/// model.family      // "llama"
/// model.attention   // .causal
/// let out = try FunctionEmbedder(model: model).embed(texts: ["def f(): pass"], layer: model.layerCount)
/// ```
public protocol TeacherModel: AnyObject, Sendable {
    /// The model's name in space names (`NAME.L<layer>.<kind>`): its folder's name.
    var name: String { get }
    /// `bert`, `llama`, `qwen2` or `qwen3`.
    var family: String { get }
    /// Blocks N; hidden states are numbered 0 (embeddings) … N.
    var layerCount: Int { get }
    var hiddenSize: Int { get }
    /// Longest pass in tokens, special tokens included.
    var maxTokens: Int { get }
    var attention: AttentionMask { get }
    /// The tokenizer of the model (nil when the file carries none: such a model cannot embed text).
    var textTokenizer: (any Tokenizer)? { get }
    /// Hidden states of `layers` for a batch of token-id sequences (packed, no padding).
    func hiddenStates(batch: [[Int32]], layers: [Int]) throws -> BertHiddenStates
}

extension BertModel: TeacherModel {
    public var family: String { config.modelType }
    public var attention: AttentionMask { .bidirectional }
    public var textTokenizer: (any Tokenizer)? { tokenizer }
}

extension DecoderModel: TeacherModel {
    public var family: String { config.architecture.rawValue }
    public var maxTokens: Int { config.contextLength }
    public var attention: AttentionMask { .causal }
    public var textTokenizer: (any Tokenizer)? { tokenizer }
}
