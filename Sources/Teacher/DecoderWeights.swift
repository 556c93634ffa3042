import Foundation

/// The Float32 weights of a decoder in the layout the forward reads (Hugging Face row order, the
/// Q/K/V and gate/up projections fused), whatever they came from: a GGUF file (dequantised), a
/// Hugging Face safetensors folder (converted from BF16/F16/F32), or the weight cache (mapped).
///
/// ```swift
/// let gguf = try GGUFFile(path: path)
/// let config = try DecoderConfig(gguf: gguf)
/// let weights = try DecoderWeights(gguf: gguf, config: config)
/// weights.layers[0].wqkv.count   // (qDim + 2·kvDim) · D
/// ```
struct DecoderWeights: Sendable {
    struct Layer: Sendable {
        let attnNorm: FloatBuffer          // [D]
        let wqkv: FloatBuffer              // [qDim + 2·kvDim, D]: query; key; value rows (HF layout)
        let bqkv: FloatBuffer?             // [qDim + 2·kvDim] (qwen2; llama/qwen3 with attention_bias)
        let qNorm: FloatBuffer?, kNorm: FloatBuffer?   // [headDim] (qwen3)
        let wo: FloatBuffer                // [D, qDim]
        let bo: FloatBuffer?               // [D] (llama/qwen3 with attention_bias)
        let ffnNorm: FloatBuffer           // [D]
        let wGateUp: FloatBuffer           // [2·I, D]: gate rows, then up rows
        let wDown: FloatBuffer             // [D, I]
    }

    let embeddings: FloatBuffer   // [V, D]
    let outputNorm: FloatBuffer   // [D]
    let layers: [Layer]

    init(embeddings: FloatBuffer, outputNorm: FloatBuffer, layers: [Layer]) {
        self.embeddings = embeddings
        self.outputNorm = outputNorm
        self.layers = layers
    }

    /// The tensors of one block by their cache names, in the cache's order; absent biases and
    /// norms are left out.
    static func tensors(of layer: Layer) -> [(name: String, buffer: FloatBuffer)] {
        var out: [(String, FloatBuffer)] = [("attn_norm", layer.attnNorm), ("wqkv", layer.wqkv)]
        if let b = layer.bqkv { out.append(("bqkv", b)) }
        if let q = layer.qNorm, let k = layer.kNorm { out.append(("q_norm", q)); out.append(("k_norm", k)) }
        out.append(("wo", layer.wo))
        if let b = layer.bo { out.append(("bo", b)) }
        out += [("ffn_norm", layer.ffnNorm), ("w_gate_up", layer.wGateUp), ("w_down", layer.wDown)]
        return out
    }

    /// Dequantises every tensor the forward needs (the output head is skipped) and undoes
    /// llama.cpp's Q/K row interleaving for `llama` (see `DecoderModel.unpermuteHeads`).
    init(gguf file: GGUFFile, config: DecoderConfig) throws {
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
                q = DecoderModel.unpermuteHeads(q, heads: config.headCount, headDim: dh, columns: d)
                k = DecoderModel.unpermuteHeads(k, heads: config.kvHeadCount, headDim: dh, columns: d)
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
                bo: try optional(p + "attn_output.bias", [d]),
                ffnNorm: try buffer(p + "ffn_norm.weight", [d]),
                wGateUp: FloatBuffer(try floats(p + "ffn_gate.weight", [ffn, d]) + floats(p + "ffn_up.weight", [ffn, d])),
                wDown: try buffer(p + "ffn_down.weight", [d, ffn])))
        }
        self.layers = layers
    }
}
