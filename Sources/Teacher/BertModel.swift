import Foundation

/// A BERT encoder with Float32 weights in memory, read-only: `hiddenStates` may run from many tasks.
///
/// ```swift
/// let model = try BertModel.load(directory: URL(fileURLWithPath: ".cache/models/all-MiniLM-L6-v2"))
/// let enc = model.tokenizer.encode("def f(x): return x", maxLength: model.maxTokens)
/// let states = try model.hiddenStates(batch: [enc.ids], layers: [3, 6])
/// let layer3 = states.sequence(0, layer: 3)   // T × 384 floats, row-major
/// ```
public final class BertModel: Sendable {
    public let config: BertConfig
    public let tokenizer: any Tokenizer
    /// Folder name, e.g. "all-MiniLM-L6-v2".
    public let name: String

    struct Layer: Sendable {
        let wqkv: FloatBuffer   // [3D, D]  (query; key; value rows, HF [out, in] layout)
        let bqkv: FloatBuffer   // [3D]
        let wo: FloatBuffer, bo: FloatBuffer       // [D, D], [D]
        let ln1g: FloatBuffer, ln1b: FloatBuffer   // [D]
        let w1: FloatBuffer, b1: FloatBuffer       // [I, D], [I]
        let w2: FloatBuffer, b2: FloatBuffer       // [D, I], [D]
        let ln2g: FloatBuffer, ln2b: FloatBuffer   // [D]
    }

    let wordEmbeddings: FloatBuffer      // [V, D]
    let positionEmbeddings: FloatBuffer  // [P, D]
    let tokenTypeEmbeddings: FloatBuffer // [typeVocab, D]
    let embLNg: FloatBuffer, embLNb: FloatBuffer
    let layers: [Layer]

    /// Longest input in tokens (incl. [CLS]/[SEP]): `max_position_embeddings`.
    public var maxTokens: Int { config.maxPositionEmbeddings }
    /// Number of encoder layers L; hidden states are numbered 0 (embeddings) … L.
    public var layerCount: Int { config.numHiddenLayers }
    public var hiddenSize: Int { config.hiddenSize }

    /// Loads `config.json`, the tokenizer and the safetensors weights (single or sharded) of a
    /// Hugging Face BERT folder. Tensor names may carry the `bert.` prefix or not.
    public static func load(directory: URL) throws -> BertModel {
        let config = try BertConfig(contentsOf: directory.appendingPathComponent("config.json"))
        let tokenizer = try WordPieceTokenizer(directory: directory)
        let weights = try SafeTensorWeights(directory: directory)
        return try BertModel(config: config, tokenizer: tokenizer, weights: weights, name: directory.lastPathComponent)
    }

    public init(config: BertConfig, tokenizer: any Tokenizer, weights: SafeTensorWeights, name: String = "bert") throws {
        self.config = config
        self.tokenizer = tokenizer
        self.name = name
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw TeacherError.invalidConfig("tokenizer has \(tokenizer.vocabularySize) ids but vocab_size is \(config.vocabSize)")
        }
        let prefix = weights.info("bert.embeddings.word_embeddings.weight") != nil ? "bert." : ""
        let d = config.hiddenSize, i = config.intermediateSize
        func load(_ name: String, _ shape: [Int]) throws -> FloatBuffer {
            FloatBuffer(try weights.floats(prefix + name, shape: shape))
        }
        func layerNorm(_ base: String) throws -> (FloatBuffer, FloatBuffer) {
            // Old TF-converted checkpoints name them gamma/beta.
            let g = weights.info(prefix + base + ".weight") != nil ? ".weight" : ".gamma"
            let b = weights.info(prefix + base + ".bias") != nil ? ".bias" : ".beta"
            return (try load(base + g, [d]), try load(base + b, [d]))
        }
        wordEmbeddings = try load("embeddings.word_embeddings.weight", [config.vocabSize, d])
        positionEmbeddings = try load("embeddings.position_embeddings.weight", [config.maxPositionEmbeddings, d])
        tokenTypeEmbeddings = try load("embeddings.token_type_embeddings.weight", [config.typeVocabSize, d])
        (embLNg, embLNb) = try layerNorm("embeddings.LayerNorm")
        var layers: [Layer] = []
        for l in 0..<config.numHiddenLayers {
            let p = "encoder.layer.\(l)."
            var wqkv: [Float] = [], bqkv: [Float] = []
            for part in ["query", "key", "value"] {
                wqkv += try weights.floats(prefix + p + "attention.self.\(part).weight", shape: [d, d])
                bqkv += try weights.floats(prefix + p + "attention.self.\(part).bias", shape: [d])
            }
            let (ln1g, ln1b) = try layerNorm(p + "attention.output.LayerNorm")
            let (ln2g, ln2b) = try layerNorm(p + "output.LayerNorm")
            layers.append(Layer(
                wqkv: FloatBuffer(wqkv), bqkv: FloatBuffer(bqkv),
                wo: try load(p + "attention.output.dense.weight", [d, d]), bo: try load(p + "attention.output.dense.bias", [d]),
                ln1g: ln1g, ln1b: ln1b,
                w1: try load(p + "intermediate.dense.weight", [i, d]), b1: try load(p + "intermediate.dense.bias", [i]),
                w2: try load(p + "output.dense.weight", [d, i]), b2: try load(p + "output.dense.bias", [d]),
                ln2g: ln2g, ln2b: ln2b))
        }
        self.layers = layers
    }
}
