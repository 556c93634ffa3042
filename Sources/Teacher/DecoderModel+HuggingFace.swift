import Foundation

extension DecoderModel {
    /// Loads a Hugging Face decoder folder: `config.json` (`model_type` llama / qwen2 / qwen3, see
    /// `DecoderConfig.HuggingFaceFile`), safetensors weights (`model.safetensors`, or shards listed by
    /// `model.safetensors.index.json`) in BF16, F16 or F32, and `tokenizer.json` when present
    /// (byte-level BPE; without one the model gives hidden states of token ids only). Hugging Face's
    /// Q/K rows are already in the order the forward's RoPE (`rotate_half`) reads: nothing is permuted.
    /// Shapes are checked against the config before anything is converted, and the Float32 size
    /// against `memoryLimit` (`modelTooLarge`). `lm_head.weight` is never read.
    ///
    /// ```swift
    /// let model = try DecoderModel.load(directory: dataDir.appendingPathComponent("models/qwen3-8b"), name: "qwen3-8b")
    /// model.config.architecture   // .qwen3
    /// ```
    public static func load(directory: URL, name: String? = nil, memoryLimit: Int? = nil) throws -> DecoderModel {
        let file = try DecoderConfig.HuggingFaceFile(contentsOf: directory.appendingPathComponent("config.json"))
        guard DecoderConfig.Architecture(rawValue: file.model_type) != nil else {
            throw TeacherError.unsupportedArchitecture("model_type \(file.model_type) (decoders: llama, qwen2, qwen3)")
        }
        let weights = try SafeTensorWeights(directory: directory)
        guard let embed = weights.info("model.embed_tokens.weight") else { throw TeacherError.missingTensor("model.embed_tokens.weight") }
        let config = try DecoderConfig(huggingFace: file, vocabSize: embed.shape.first ?? 0)
        if let v = file.vocab_size, v != config.vocabSize {
            throw TeacherError.shapeMismatch(tensor: "model.embed_tokens.weight", expected: [v, config.hiddenSize], found: embed.shape)
        }
        let name = name ?? directory.lastPathComponent
        let plan = try HuggingFaceTensors(config: config, file: file, weights: weights)
        let limit = memoryLimit ?? defaultMemoryLimit
        guard plan.float32Bytes <= limit else { throw TeacherError.modelTooLarge(name: name, bytes: plan.float32Bytes, limit: limit) }
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        let tokenizer = FileManager.default.fileExists(atPath: tokenizerURL.path) ? try ByteLevelBPETokenizer(tokenizerJSON: tokenizerURL) : nil
        if let tokenizer, tokenizer.vocabularySize > config.vocabSize {
            throw TeacherError.invalidTokenizer("tokenizer.json has \(tokenizer.vocabularySize) tokens, the embeddings \(config.vocabSize) rows")
        }
        return DecoderModel(config: config, tokenizer: tokenizer, name: name, weights: try plan.convert(),
                            weightBytes: plan.float32Bytes, source: .converted)
    }
}

/// The tensors a Hugging Face decoder folder must hold for its config, each checked present, of a
/// float dtype and of the right shape (`plan`), then converted to the forward's layout (`convert`).
///
/// ```swift
/// let plan = try HuggingFaceTensors(config: config, file: configFile, weights: weights)
/// plan.float32Bytes          // what the model will take in memory
/// let w = try plan.convert() // DecoderWeights
/// ```
struct HuggingFaceTensors {
    let config: DecoderConfig
    let file: DecoderConfig.HuggingFaceFile
    let weights: SafeTensorWeights
    /// Bytes of the Float32 copies of every tensor used.
    let float32Bytes: Int

    init(config c: DecoderConfig, file: DecoderConfig.HuggingFaceFile, weights: SafeTensorWeights) throws {
        self.config = c
        self.file = file
        self.weights = weights
        var bytes = 0
        for (name, shape) in Self.expected(c, file) {
            guard let info = weights.info(name) else { throw TeacherError.missingTensor(name) }
            guard info.shape == shape else { throw TeacherError.shapeMismatch(tensor: name, expected: shape, found: info.shape) }
            guard info.dtype == .f32 || info.dtype == .f16 || info.dtype == .bf16 else {
                throw TeacherError.unsupportedDType(tensor: name, dtype: info.dtype.rawValue + " (BF16, F16, F32 are supported)")
            }
            bytes += 4 * info.elementCount  // bounded by the files' sizes: their headers were checked against them
        }
        float32Bytes = bytes
    }

    /// Every tensor used, with its shape ([out, in] for projections).
    static func expected(_ c: DecoderConfig, _ f: DecoderConfig.HuggingFaceFile) -> [(String, [Int])] {
        let d = c.hiddenSize, q = c.queryDim, kv = c.kvDim, ffn = c.intermediateSize
        var out: [(String, [Int])] = [("model.embed_tokens.weight", [c.vocabSize, d]), ("model.norm.weight", [d])]
        for l in 0..<c.layerCount {
            let p = "model.layers.\(l)."
            out += [(p + "input_layernorm.weight", [d]), (p + "post_attention_layernorm.weight", [d]),
                    (p + "self_attn.q_proj.weight", [q, d]), (p + "self_attn.k_proj.weight", [kv, d]),
                    (p + "self_attn.v_proj.weight", [kv, d]), (p + "self_attn.o_proj.weight", [d, q]),
                    (p + "mlp.gate_proj.weight", [ffn, d]), (p + "mlp.up_proj.weight", [ffn, d]), (p + "mlp.down_proj.weight", [d, ffn])]
            if f.hasQKVBias {
                out += [(p + "self_attn.q_proj.bias", [q]), (p + "self_attn.k_proj.bias", [kv]), (p + "self_attn.v_proj.bias", [kv])]
            }
            if f.hasOutputBias { out.append((p + "self_attn.o_proj.bias", [d])) }
            if c.architecture == .qwen3 {
                out += [(p + "self_attn.q_norm.weight", [c.headDim]), (p + "self_attn.k_norm.weight", [c.headDim])]
            }
        }
        return out
    }

    /// Converts every tensor to Float32 in the forward's layout (shapes were checked at init).
    func convert() throws -> DecoderWeights {
        func buffer(_ name: String) throws -> FloatBuffer { FloatBuffer(try weights.floats(name)) }
        func fused(_ names: [String]) throws -> FloatBuffer {
            let infos = names.compactMap { weights.info($0) }
            let out = FloatBuffer(count: infos.reduce(0) { $0 + $1.elementCount })
            var at = 0
            for name in names {
                let part = try weights.floats(name)
                part.withUnsafeBufferPointer { (out.pointer + at).update(from: $0.baseAddress!, count: part.count) }
                at += part.count
            }
            return out
        }
        var layers: [DecoderWeights.Layer] = []
        for l in 0..<config.layerCount {
            let p = "model.layers.\(l)."
            let a = p + "self_attn."
            layers.append(.init(
                attnNorm: try buffer(p + "input_layernorm.weight"),
                wqkv: try fused([a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight"]),
                bqkv: file.hasQKVBias ? try fused([a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias"]) : nil,
                qNorm: config.architecture == .qwen3 ? try buffer(a + "q_norm.weight") : nil,
                kNorm: config.architecture == .qwen3 ? try buffer(a + "k_norm.weight") : nil,
                wo: try buffer(a + "o_proj.weight"),
                bo: file.hasOutputBias ? try buffer(a + "o_proj.bias") : nil,
                ffnNorm: try buffer(p + "post_attention_layernorm.weight"),
                wGateUp: try fused([p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"]),
                wDown: try buffer(p + "mlp.down_proj.weight")))
        }
        return DecoderWeights(embeddings: try buffer("model.embed_tokens.weight"), outputNorm: try buffer("model.norm.weight"),
                              layers: layers)
    }
}
