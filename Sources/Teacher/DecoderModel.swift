import Foundation

/// A decoder-only transformer (Llama, Qwen2, Qwen3) from one GGUF file, its weights dequantised once
/// at load to Float32 and read-only afterwards: `hiddenStates` may run from many tasks. The output
/// head (`output.weight`) is never loaded: the model gives hidden states only.
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
    public let config: DecoderConfig
    /// The byte-level BPE tokenizer of the file (nil when it has no `tokenizer.ggml.*` metadata).
    public let tokenizer: ByteLevelBPETokenizer?
    /// The name given at load (a model folder's name), else the file name without extension,
    /// e.g. "SmolLM2-135M-Instruct.Q4_1".
    public let name: String
    /// Bytes of the Float32 weights held in memory.
    public let weightBytes: Int

    struct Layer: Sendable {
        let attnNorm: FloatBuffer          // [D]
        let wqkv: FloatBuffer              // [qDim + 2·kvDim, D]: query; key; value rows (HF layout)
        let bqkv: FloatBuffer?             // [qDim + 2·kvDim] (qwen2)
        let qNorm: FloatBuffer?, kNorm: FloatBuffer?   // [headDim] (qwen3)
        let wo: FloatBuffer                // [D, qDim]
        let ffnNorm: FloatBuffer           // [D]
        let wGateUp: FloatBuffer           // [2·I, D]: gate rows, then up rows
        let wDown: FloatBuffer             // [D, I]
    }

    let embeddings: FloatBuffer   // [V, D]
    let outputNorm: FloatBuffer   // [D]
    let layers: [Layer]

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
    public static func load(path: String, name: String? = nil, memoryLimit: Int? = nil) throws -> DecoderModel {
        try DecoderModel(gguf: GGUFFile(path: path), name: name, memoryLimit: memoryLimit)
    }

    public init(gguf file: GGUFFile, name: String? = nil, memoryLimit: Int? = nil) throws {
        let config = try DecoderConfig(gguf: file)
        self.config = config
        self.name = name ?? ((file.path as NSString).lastPathComponent as NSString).deletingPathExtension
        let bytes = Self.float32Bytes(of: file), limit = memoryLimit ?? Self.defaultMemoryLimit
        guard bytes <= limit else { throw TeacherError.modelTooLarge(name: self.name, bytes: bytes, limit: limit) }
        weightBytes = bytes
        if file.tensor("rope_freqs.weight") != nil {  // Llama 3.1-style per-frequency RoPE factors
            throw TeacherError.invalidConfig("rope_freqs.weight (Llama 3.1 RoPE scaling) is not supported")
        }
        tokenizer = file.metadata["tokenizer.ggml.model"] == nil ? nil : try ByteLevelBPETokenizer(gguf: file)

        let d = config.hiddenSize, ffn = config.intermediateSize, dh = config.headDim
        let qDim = config.queryDim, kvDim = config.kvDim
        func floats(_ tensor: String, _ shape: [Int]) throws -> [Float] { try file.floats(tensor, shape: shape) }
        func buffer(_ tensor: String, _ shape: [Int]) throws -> FloatBuffer { FloatBuffer(try floats(tensor, shape)) }
        func optional(_ tensor: String, _ shape: [Int]) throws -> FloatBuffer? {
            file.tensor(tensor) == nil ? nil : try buffer(tensor, shape)
        }
        embeddings = try buffer("token_embd.weight", [config.vocabSize, d])
        outputNorm = try buffer("output_norm.weight", [d])
        var layers: [Layer] = []
        for l in 0..<config.layerCount {
            let p = "blk.\(l)."
            var q = try floats(p + "attn_q.weight", [qDim, d]), k = try floats(p + "attn_k.weight", [kvDim, d])
            if config.architecture == .llama {
                // llama.cpp's converter interleaves the two halves of each head's Q/K rows for ggml's
                // adjacent-pair RoPE; undo it so one RoPE (HF's rotate_half pairs) serves every arch.
                q = Self.unpermuteHeads(q, heads: config.headCount, headDim: dh, columns: d)
                k = Self.unpermuteHeads(k, heads: config.kvHeadCount, headDim: dh, columns: d)
            }
            let v = try floats(p + "attn_v.weight", [kvDim, d])
            var bias: FloatBuffer?
            if file.tensor(p + "attn_q.bias") != nil || file.tensor(p + "attn_k.bias") != nil || file.tensor(p + "attn_v.bias") != nil {
                bias = FloatBuffer(try floats(p + "attn_q.bias", [qDim]) + floats(p + "attn_k.bias", [kvDim]) + floats(p + "attn_v.bias", [kvDim]))
            }
            let qNorm = try optional(p + "attn_q_norm.weight", [dh]), kNorm = try optional(p + "attn_k_norm.weight", [dh])
            guard (qNorm == nil) == (kNorm == nil), config.architecture != .qwen3 || qNorm != nil else {
                throw TeacherError.missingTensor(p + (qNorm == nil ? "attn_q_norm.weight" : "attn_k_norm.weight"))
            }
            layers.append(Layer(
                attnNorm: try buffer(p + "attn_norm.weight", [d]),
                wqkv: FloatBuffer(q + k + v), bqkv: bias, qNorm: qNorm, kNorm: kNorm,
                wo: try buffer(p + "attn_output.weight", [d, qDim]),
                ffnNorm: try buffer(p + "ffn_norm.weight", [d]),
                wGateUp: FloatBuffer(try floats(p + "ffn_gate.weight", [ffn, d]) + floats(p + "ffn_up.weight", [ffn, d])),
                wDown: try buffer(p + "ffn_down.weight", [d, ffn])))
        }
        self.layers = layers
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
