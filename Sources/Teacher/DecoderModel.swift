import Foundation

/// A decoder-only transformer (Llama, Qwen2, Qwen3) from one GGUF file or a Hugging Face folder
/// (`DecoderModel+HuggingFace`), its weights converted once at load to Float32 (or mapped from the
/// weight cache, `DecoderWeightCache`) and read-only afterwards: `hiddenStates` may run from many
/// tasks. The output head (`output.weight`, `lm_head.weight`) is never loaded: the model gives
/// hidden states only.
///
/// Hidden states are numbered as Hugging Face transformers' `output_hidden_states`: 0 is the token
/// embeddings, l (1 ≤ l < N) the residual stream after block l, and N the last block's output after
/// the final RMSNorm (`output_norm`).
///
/// ```swift
/// let model = try DecoderModel.load(path: ".cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
/// let ids = model.tokenizer!.encode("def f(x): return x").ids
/// let states = try model.hiddenStates(batch: [ids], layers: [15])
/// let layer15 = states.sequence(0, layer: 15)   // T × 576 floats, row-major
/// ```
public final class DecoderModel: Sendable {
    /// Where the Float32 weights of a loaded model came from.
    public enum WeightSource: String, Sendable, Equatable {
        /// Converted at this load (GGUF dequantised, or safetensors converted); not cached.
        case converted
        /// Converted at this load and written to the weight cache for the next one.
        case convertedAndCached
        /// Mapped from the weight cache (no conversion).
        case cache
    }

    public let config: DecoderConfig
    /// The byte-level BPE tokenizer (nil when the file carries none, or a folder has no `tokenizer.json`).
    public let tokenizer: ByteLevelBPETokenizer?
    /// The name given at load (a model folder's name), else the file name without extension,
    /// e.g. "SmolLM2-135M-Instruct.Q4_1".
    public let name: String
    /// Bytes of the Float32 weights held in memory (or mapped).
    public let weightBytes: Int
    public let weightSource: WeightSource
    let weights: DecoderWeights

    /// Number of blocks N; hidden states are numbered 0 … N.
    public var layerCount: Int { config.layerCount }
    public var hiddenSize: Int { config.hiddenSize }

    /// The memory a model may take by default: three quarters of the machine's physical memory.
    public static var defaultMemoryLimit: Int { Int(ProcessInfo.processInfo.physicalMemory / 4 * 3) }

    /// Float32 bytes the weights of `file` take once loaded (every tensor but `output.weight`).
    public static func float32Bytes(of file: GGUFFile) -> Int {
        file.tensors.reduce(0) { $0 + ($1.name == "output.weight" ? 0 : $1.elementCount * 4) }
    }

    /// Opens, validates and dequantises a GGUF file. Throws `TeacherError.modelTooLarge` (naming the
    /// size) before converting anything when the Float32 weights exceed `memoryLimit`
    /// (default: `defaultMemoryLimit`). `name`: the model's name (default: the file name without extension).
    /// `cacheDirectory`: where the converted weights are kept between loads (nil: no cache; see
    /// `DecoderWeightCache`; `TeacherModelFolder` uses `DATA/models/NAME/.swejepa-cache`).
    public static func load(path: String, name: String? = nil, memoryLimit: Int? = nil, cacheDirectory: URL? = nil) throws -> DecoderModel {
        try DecoderModel(gguf: GGUFFile(path: path), name: name, memoryLimit: memoryLimit, cacheDirectory: cacheDirectory)
    }

    public convenience init(gguf file: GGUFFile, name: String? = nil, memoryLimit: Int? = nil, cacheDirectory: URL? = nil) throws {
        let config = try DecoderConfig(gguf: file)
        let name = name ?? ((file.path as NSString).lastPathComponent as NSString).deletingPathExtension
        let bytes = Self.float32Bytes(of: file), limit = memoryLimit ?? Self.defaultMemoryLimit
        guard bytes <= limit else { throw TeacherError.modelTooLarge(name: name, bytes: bytes, limit: limit) }
        if file.tensor("rope_freqs.weight") != nil {  // Llama 3.1-style per-frequency RoPE factors
            throw TeacherError.invalidConfig("rope_freqs.weight (Llama 3.1 RoPE scaling) is not supported")
        }
        let tokenizer = file.metadata["tokenizer.ggml.model"] == nil ? nil : try ByteLevelBPETokenizer(gguf: file)
        let cache = cacheDirectory.map { DecoderWeightCache(directory: $0, source: URL(fileURLWithPath: file.path)) }
        let weights: DecoderWeights, source: WeightSource
        if let cache, let cached = cache.read(config: config) {
            (weights, source) = (cached, .cache)
        } else {
            weights = try DecoderWeights(gguf: file, config: config)
            source = cache?.write(weights, config: config) == true ? .convertedAndCached : .converted
        }
        self.init(config: config, tokenizer: tokenizer, name: name, weights: weights, weightBytes: bytes, source: source)
    }

    init(config: DecoderConfig, tokenizer: ByteLevelBPETokenizer?, name: String, weights: DecoderWeights, weightBytes: Int,
         source: WeightSource) {
        self.config = config
        self.tokenizer = tokenizer
        self.name = name
        self.weights = weights
        self.weightBytes = weightBytes
        self.weightSource = source
    }

    /// Inverse of llama.cpp's `LlamaModel.permute`: within each head, GGUF row 2j + s holds HF row
    /// s · headDim/2 + j (s ∈ {0, 1}). `w` is [heads · headDim, columns], row-major.
    static func unpermuteHeads(_ w: [Float], heads: Int, headDim: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: w.count)
        let half = headDim / 2
        w.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let o = dst.baseAddress else { return }
                for h in 0..<heads {
                    for j in 0..<half {
                        for sIdx in 0..<2 {
                            let from = (h * headDim + 2 * j + sIdx) * columns
                            let to = (h * headDim + sIdx * half + j) * columns
                            (o + to).update(from: s + from, count: columns)
                        }
                    }
                }
            }
        }
        return out
    }
}
