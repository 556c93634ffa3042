import Core
import Foundation
import Testing
import TestSupport
@testable import Teacher

/// The real SmolLM2-135M-Instruct GGUF converted to a Hugging Face folder in a temporary directory
/// the way Hugging Face stores the model (config.json from the metadata, tokenizer.json from the
/// vocabulary and merges, F32 safetensors under HF names with each head's Q/K rows taken back from
/// llama.cpp's interleaved order to HF's halves), then loaded through the HF path: its tokenizer and
/// hidden states must equal the GGUF path's. Skipped when the model is absent.
@Suite struct HFSmolLM2Tests {
    static let texts = ["def add(a, b):\n    return a + b\n", "for i in range(10):\n    print(i * i)",
                        "<|im_start|>user\nx = 12345 # café → ok<|im_end|>", "class Stack:\n    def push(self, x):\n        self.items.append(x)\n"]

    /// GGUF row 2j + s of a head ← HF row s·half + j (llama.cpp's `permute`); this is its inverse, written
    /// from the definition rather than calling the loader's own `unpermuteHeads`.
    static func hfRows(_ w: [Float], heads: Int, columns: Int) -> [Float] {
        let rows = w.count / columns, headDim = rows / heads, half = headDim / 2
        var out = [Float](repeating: 0, count: w.count)
        for h in 0..<heads {
            for r in 0..<headDim {  // HF row r = s·half + j
                let s = r / half, j = r % half
                let from = (h * headDim + 2 * j + s) * columns, to = (h * headDim + r) * columns
                out.replaceSubrange(to..<(to + columns), with: w[from..<(from + columns)])
            }
        }
        return out
    }

    static func convert(_ gguf: GGUFFile, to dir: URL) throws {
        let a = "llama."
        let d = try gguf.requireInt(a + "embedding_length"), heads = try gguf.requireInt(a + "attention.head_count")
        let kv = try gguf.requireInt(a + "attention.head_count_kv")
        let tokens = try gguf.requireStrings("tokenizer.ggml.tokens"), merges = try gguf.requireStrings("tokenizer.ggml.merges")
        let config: [String: Any] = [
            "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": d,
            "num_hidden_layers": try gguf.requireInt(a + "block_count"), "num_attention_heads": heads, "num_key_value_heads": kv,
            "intermediate_size": try gguf.requireInt(a + "feed_forward_length"),
            "rms_norm_eps": try gguf.requireDouble(a + "attention.layer_norm_rms_epsilon"),
            "rope_theta": try gguf.requireDouble(a + "rope.freq_base"), "rope_scaling": NSNull(),
            "max_position_embeddings": try gguf.requireInt(a + "context_length"), "vocab_size": tokens.count,
            "tie_word_embeddings": gguf.tensor("output.weight") == nil, "hidden_act": "silu", "torch_dtype": "float32"]
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))

        let types = gguf.metadata["tokenizer.ggml.token_type"]?.ints ?? []
        let added: [[String: Any]] = types.enumerated().filter { $0.element == 3 || $0.element == 4 }.map {
            ["id": $0.offset, "content": tokens[$0.offset], "special": $0.element == 3, "normalized": false]
        }
        let tokenizer: [String: Any] = [
            "version": "1.0", "added_tokens": added, "normalizer": NSNull(),
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true],
                                                                    ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]]],
            "post_processor": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
            "model": ["type": "BPE", "byte_fallback": false, "ignore_merges": false, "fuse_unk": false,
                      "vocab": Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }), "merges": merges]]
        try JSONSerialization.data(withJSONObject: tokenizer).write(to: dir.appendingPathComponent("tokenizer.json"))

        let names = ["attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
                     "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
                     "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"]
        var tensors: [TestSafeTensorsWriter.Tensor] = []
        for info in gguf.tensors where info.name != "output.weight" {
            var values = try gguf.floats(info.name)
            let hf: String
            switch info.name {
            case "token_embd.weight": hf = "model.embed_tokens.weight"
            case "output_norm.weight": hf = "model.norm.weight"
            default:
                let parts = info.name.split(separator: ".")  // blk.N.kind.weight
                hf = "model.layers.\(parts[1]).\(names[String(parts[2])]!).\(parts[3])"
                if parts[2] == "attn_q" { values = hfRows(values, heads: heads, columns: d) }
                if parts[2] == "attn_k" { values = hfRows(values, heads: kv, columns: d) }
            }
            tensors.append(.init(name: hf, floats: values, shape: info.shape))
        }
        try TestSafeTensorsWriter.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
    }

    @Test(.enabled(if: GGUFSmolLM2Tests.present, "SmolLM2 GGUF absent: run `make model-smollm2`"))
    func smolLM2AsAHuggingFaceFolderEqualsTheGGUF() throws {
        let root = try makeTemporaryDirectory("hf-smollm2")
        defer { removeTemporaryDirectory(root) }
        let dir = root.appendingPathComponent("smollm2-hf")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let gguf = try GGUFFile(path: GGUFSmolLM2Tests.path)
        try Self.convert(gguf, to: dir)
        let fromGGUF = try DecoderModel(gguf: gguf)
        let folder = try TeacherModelFolder(directory: dir)
        #expect(folder == .huggingFaceDecoder(directory: dir))
        let fromHF = try #require(try folder.load() as? DecoderModel)
        #expect(fromHF.config.layerCount == 30 && fromHF.config.headDim == 64 && fromHF.config.vocabSize == 49_152)
        #expect(fromHF.weightBytes == fromGGUF.weightBytes)

        let tg = try #require(fromGGUF.tokenizer), th = try #require(fromHF.tokenizer)
        var batch: [[Int32]] = []
        for text in Self.texts {
            let a = tg.encode(text), b = th.encode(text)
            #expect(a.ids == b.ids, "\(text.debugDescription)")
            #expect(a.offsets == b.offsets, "\(text.debugDescription)")
            batch.append(a.ids)
        }
        let layers = [0, 1, 15, 29, 30]
        let sg = try fromGGUF.hiddenStates(batch: batch, layers: layers), sh = try fromHF.hiddenStates(batch: batch, layers: layers)
        var errors: [String] = []
        for l in layers {
            let err = DecoderForwardTests.relativeError(try #require(sh.layers[l]), try #require(sg.layers[l]))
            errors.append(String(format: "%d: %.1e", l, err))
            #expect(err <= 1e-4, "layer \(l): relative error \(err)")
        }
        print("SmolLM2 HF folder vs GGUF: relative error per layer \(errors.joined(separator: ", ")); bit-identical: \(sg.layers == sh.layers)")
    }
}
