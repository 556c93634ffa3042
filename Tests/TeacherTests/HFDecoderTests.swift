import Core
import Foundation
import Testing
import TestSupport
@testable import Teacher

/// Hugging Face decoder folders (Fixtures/hf, written by scripts/reference/teacher_hf_decoder.py:
/// tiny random qwen2 BF16 with biases, qwen3 F16 sharded with q/k norms, head_dim ≠ hidden/heads and
/// o_proj bias, llama F32 with tied embeddings and linear RoPE scaling) against the script's
/// independent numpy forward in HF's own conventions (rotate_half RoPE on unpermuted Q/K rows), and
/// their tokenizer.json against Hugging Face `tokenizers`.
@Suite struct HFDecoderTests {
    static let dir = TestPaths.fixtures.appendingPathComponent("hf")
    static let cases = ["qwen2_bf16", "qwen3_f16", "llama_f32"]

    static func load(_ name: String) throws -> (DecoderModel, [[Int32]], [String: NPYArray]) {
        let model = try DecoderModel.load(directory: dir.appendingPathComponent(name))
        let (batch, ref) = try DecoderForwardTests.reference(dir.appendingPathComponent("\(name).npz"))
        return (model, batch, ref)
    }

    @Test(arguments: cases)
    func everyLayerMatchesTheNumpyReference(_ name: String) throws {
        let (model, batch, ref) = try Self.load(name)
        try DecoderForwardTests.expectEveryLayer(of: model, batch: batch, equals: ref, label: "HF decoder \(name)")
    }

    /// The proof that HF folders need no Q/K permutation: the same weights with each head's rows
    /// interleaved as llama.cpp stores them (what the GGUF path undoes) give different states.
    @Test func permutingQKRowsChangesTheResult() throws {
        let (model, batch, ref) = try Self.load("llama_f32")
        let c = model.config, d = c.hiddenSize
        let layers = model.weights.layers.map { w -> DecoderWeights.Layer in
            let qkv = w.wqkv.toArray()
            // GGUF row 2j + s ← HF row s·half + j: the inverse of DecoderModel.unpermuteHeads.
            func permute(_ rows: ArraySlice<Float>, heads: Int) -> [Float] {
                var out = [Float](repeating: 0, count: rows.count)
                let half = c.headDim / 2, base = rows.startIndex
                for h in 0..<heads { for j in 0..<half { for s in 0..<2 {
                    let from = base + (h * c.headDim + s * half + j) * d, to = (h * c.headDim + 2 * j + s) * d
                    for k in 0..<d { out[to + k] = rows[from + k] }
                } } }
                return out
            }
            let q = permute(qkv[0..<(c.queryDim * d)], heads: c.headCount)
            let k = permute(qkv[(c.queryDim * d)..<((c.queryDim + c.kvDim) * d)], heads: c.kvHeadCount)
            #expect(DecoderModel.unpermuteHeads(q, heads: c.headCount, headDim: c.headDim, columns: d) == Array(qkv[0..<(c.queryDim * d)]))
            let v = Array(qkv[((c.queryDim + c.kvDim) * d)...])
            return .init(attnNorm: w.attnNorm, wqkv: FloatBuffer(q + k + v), bqkv: w.bqkv, qNorm: w.qNorm, kNorm: w.kNorm, wo: w.wo,
                         bo: w.bo, ffnNorm: w.ffnNorm, wGateUp: w.wGateUp, wDown: w.wDown)
        }
        let permuted = DecoderModel(config: c, tokenizer: nil, name: "permuted",
                                    weights: DecoderWeights(embeddings: model.weights.embeddings, outputNorm: model.weights.outputNorm, layers: layers),
                                    weightBytes: model.weightBytes, source: .converted)
        let got = try permuted.hiddenStates(batch: batch, layers: [1])
        let err = DecoderForwardTests.relativeError(try #require(got.layers[1]), try #require(ref["layer_1"]).floats())
        print("HF decoder llama_f32 with GGUF-interleaved Q/K rows: layer 1 relative error \(err)")
        #expect(err > 1e-2)
    }

    @Test func configComesFromConfigJSON() throws {
        let q3 = try DecoderModel.load(directory: Self.dir.appendingPathComponent("qwen3_f16")).config
        #expect(q3.architecture == .qwen3 && q3.layerCount == 2 && q3.hiddenSize == 32 && q3.intermediateSize == 64)
        #expect(q3.headCount == 4 && q3.kvHeadCount == 2 && q3.headDim == 16 && q3.queryDim == 64 && q3.contextLength == 128)
        #expect(q3.ropeBase == 1_000_000 && q3.ropeScaling == .none && q3.vocabSize == 298 && abs(q3.rmsNormEps - 1e-6) < 1e-12)
        let llama = try DecoderModel.load(directory: Self.dir.appendingPathComponent("llama_f32"))
        #expect(llama.config.ropeScaling == .linear(factor: 2) && llama.config.headDim == 8 && llama.config.ropeBase == 10_000)
        #expect(llama.weights.layers.allSatisfy { $0.bqkv == nil && $0.bo == nil && $0.qNorm == nil })
        let qwen2 = try DecoderModel.load(directory: Self.dir.appendingPathComponent("qwen2_bf16"))
        #expect(qwen2.weights.layers.allSatisfy { $0.bqkv != nil && $0.bo == nil })
        // Untied head present in the file but never read: the weights held exclude it.
        #expect(qwen2.weightBytes == 4 * (298 * 32 + 32 + 2 * (2 * 32 + (32 + 16 + 16) * 32 + (32 + 16 + 16) + 32 * 32 + 3 * 64 * 32)))
    }

    @Test(arguments: cases)
    func tokenizerJSONMatchesHuggingFaceTokenizers(_ name: String) throws {
        let model = try DecoderModel.load(directory: Self.dir.appendingPathComponent(name))
        let tokenizer = try #require(model.tokenizer)
        let ref = try #require(try TestPaths.fixtureJSON("hf/tokenizer_reference.json")[name] as? [[String: Any]])
        for c in ref {
            let text = try #require(c["text"] as? String)
            let enc = tokenizer.encode(text)
            #expect(enc.ids.map(Int.init) == (c["ids"] as? [Int]), "\(name): \(text.debugDescription)")
            let offsets = try #require(c["offsets"] as? [[Int]])
            #expect(enc.offsets.map { [$0.start, $0.end] } == offsets, "\(name) offsets: \(text.debugDescription)")
        }
        #expect(tokenizer.addBOS == (name == "llama_f32"))
        #expect(tokenizer.preTokenizer == (name == "llama_f32" ? .smollm : .qwen2))
    }

    @Test func aFolderIsRecognisedDescribedAndLoadedByName() throws {
        let root = try makeTemporaryDirectory("hf-folder")
        defer { removeTemporaryDirectory(root) }
        let dir = root.appendingPathComponent("tiny-qwen3")
        try FileManager.default.copyItem(at: Self.dir.appendingPathComponent("qwen3_f16"), to: dir)
        let folder = try TeacherModelFolder(directory: dir)
        #expect(folder == .huggingFaceDecoder(directory: dir))
        let info = try folder.describe()
        #expect(info.family == "qwen3" && info.layers == 2 && info.dim == 32 && info.name == "tiny-qwen3")
        #expect(info.sourceFile.lastPathComponent == "model.safetensors.index.json")
        let stored = try SafeTensorWeights(directory: dir)
        #expect(info.parameters == stored.files.reduce(0) { $0 + $1.tensors.values.reduce(0) { $0 + $1.elementCount } })
        let model = try folder.load()
        #expect(model.name == "tiny-qwen3" && model.family == "qwen3" && model.attention == .causal && model.maxTokens == 128)
        let out = try FunctionEmbedder(model: model).embed(texts: ["def f(x):\n    return x"], layer: 2)
        #expect(out.count == 1 && out[0].count == 32 && out[0].allSatisfy(\.isFinite))
        // No tokenizer.json: hidden states of ids only.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("tokenizer.json"))
        #expect(try DecoderModel.load(directory: dir).tokenizer == nil)
    }
}
