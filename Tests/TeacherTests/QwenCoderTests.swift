import Core
import Foundation
import Testing
import TestSupport
@testable import Teacher

/// The real Qwen2.5-Coder-0.5B-Instruct GGUF (Q4_K_M, `make model-qwen-coder`, an explicit opt-in),
/// loaded through `TeacherModelFolder` like any model folder, against independent references
/// (scripts/reference/teacher_qwen_coder.py): Hugging Face `tokenizers` built from the file's own
/// vocabulary and merges with Qwen2's pre-tokenizer (Fixtures/gguf/qwen_coder_tokenizer_reference.json),
/// and the numpy float64 decoder of teacher_decoder.py on the `gguf` package's dequantisation
/// (Fixtures/decoder/qwen_coder_means.*: mean-pooled hidden states 12 and 24 of three code snippets).
/// Skipped when the file is absent. Serialized: one 2.5 GiB load at a time.
@Suite(.serialized) struct QwenCoderTests {
    /// `SWEJEPA_QWEN_CODER` (a model folder), else the one `make model-qwen-coder` fills.
    static var folder: URL {
        ProcessInfo.processInfo.environment["SWEJEPA_QWEN_CODER"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? PackagePaths.root.appendingPathComponent(".cache/models/Qwen2.5-Coder-0.5B-Instruct")
    }
    static var file: URL { folder.appendingPathComponent("Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf") }
    static var present: Bool { FileManager.default.fileExists(atPath: file.path) }

    @Test(.enabled(if: present, "Qwen2.5-Coder GGUF absent: run `make model-qwen-coder` (opt-in, 491 MB)"))
    func metadataIsQwen2WithBiases() throws {
        let folder = try TeacherModelFolder(directory: Self.folder)
        #expect(folder == .gguf(directory: Self.folder, file: Self.file))
        let gguf = try GGUFFile(path: Self.file.path)
        let info = try folder.describe()
        #expect(info.name == "Qwen2.5-Coder-0.5B-Instruct" && info.family == "qwen2" && info.layers == 24 && info.dim == 896)
        #expect(info.parameters == gguf.tensors.reduce(0) { $0 + $1.elementCount } && info.parameters == 630_167_424)
        #expect(gguf.fileSize == 491_400_064 && gguf.version == 3 && gguf.architecture == "qwen2")
        let c = try DecoderConfig(gguf: gguf)
        #expect(c.architecture == .qwen2 && c.layerCount == 24 && c.hiddenSize == 896 && c.intermediateSize == 4864)
        #expect(c.headCount == 14 && c.kvHeadCount == 2 && c.headDim == 64 && c.vocabSize == 151_936)
        #expect(c.ropeBase == 1_000_000 && c.ropeScaling == .none && c.contextLength == 32_768 && abs(c.rmsNormEps - 1e-6) < 1e-12)
        #expect(try gguf.requireStrings("tokenizer.ggml.tokens").count == 151_936)
        #expect(try gguf.requireString("tokenizer.ggml.pre") == "qwen2")
        for l in 0..<24 {
            for (part, size) in [("q", 896), ("k", 128), ("v", 128)] {
                #expect(gguf.tensor("blk.\(l).attn_\(part).bias")?.elementCount == size, "blk.\(l).attn_\(part).bias")
            }
        }
        #expect(gguf.tensor("output.weight") != nil)  // untied head: present, never computed
        var counts: [String: Int] = [:]
        for t in gguf.tensors { counts[t.type.description, default: 0] += 1 }
        #expect(counts == ["Q5_0": 133, "F32": 121, "Q8_0": 13, "Q6_K": 12, "Q4_K": 12])
    }

    /// Ids, offsets and decoding equal `tokenizers` on code, FIM/tool tokens and unicode. Qwen2's
    /// tokenizer.json also NFC-normalises, which we (like llama.cpp) do not: where that changes the
    /// ids, the reference's `nfc_ids` equal ours on the NFC-normalised text.
    @Test(.enabled(if: present, "Qwen2.5-Coder GGUF absent: run `make model-qwen-coder` (opt-in, 491 MB)"))
    func tokenizerMatchesHuggingFace() throws {
        let tok = try ByteLevelBPETokenizer(gguf: GGUFFile(path: Self.file.path))
        #expect(tok.preTokenizer == .qwen2 && tok.vocabularySize == 151_936 && !tok.addBOS)
        #expect(tok.eosID == 151_645 && tok.padID == 151_643)
        let ref = try TestPaths.fixtureJSON("gguf/qwen_coder_tokenizer_reference.json")
        let cases = try #require(ref["cases"] as? [[String: Any]])
        #expect(cases.count == 24)
        var nfcCases = 0
        for c in cases {
            let text = try #require(c["text"] as? String)
            let enc = tok.encode(text)
            #expect(enc.ids == (c["ids"] as? [Int])?.map(Int32.init), "\(text.debugDescription)")
            #expect(enc.offsets.map { [$0.start, $0.end] } == c["offsets"] as? [[Int]], "\(text.debugDescription)")
            #expect(tok.decode(enc.ids) == c["decoded"] as? String, "\(text.debugDescription)")
            if let nfc = c["nfc_ids"] as? [Int] {
                nfcCases += 1
                #expect(tok.encode(text.precomposedStringWithCanonicalMapping).ids == nfc.map(Int32.init), "NFC \(text.debugDescription)")
            }
        }
        #expect(nfcCases == 1)
        #expect(tok.encode("<|fim_prefix|>def").ids == [151_659, 750])
    }

    /// Mean-pooled hidden states 12 and 24 of three code snippets, loaded through the model folder
    /// (dequantised or from its `.swejepa-cache/`), within 1e-3 relative of the numpy reference (max-abs
    /// and L2).
    @Test(.enabled(if: present, "Qwen2.5-Coder GGUF absent: run `make model-qwen-coder` (opt-in, 491 MB)"))
    func meanHiddenStatesMatchTheNumpyReference() throws {
        let clock = ContinuousClock()
        var loaded: (any TeacherModel)?
        let loadTime = try clock.measure { loaded = try TeacherModelFolder(directory: Self.folder).load() }
        let model = try #require(loaded as? DecoderModel)
        #expect(model.name == "Qwen2.5-Coder-0.5B-Instruct" && model.layerCount == 24 && model.config.architecture == .qwen2)
        let tokenizer = try #require(model.tokenizer)
        let dir = TestPaths.fixtures.appendingPathComponent("decoder")
        let ref = try TestPaths.fixtureJSON("decoder/qwen_coder_means.json")
        let layers = try #require(ref["layers"] as? [Int])
        let texts = try #require(ref["texts"] as? [String])
        let ids = try #require(ref["ids"] as? [[Int]]).map { $0.map(Int32.init) }
        let npy = try NPYArray(data: Data(contentsOf: dir.appendingPathComponent("qwen_coder_means.npy")))
        #expect(layers == [12, 24] && npy.shape == [layers.count, texts.count, 896])
        let want = try npy.floats()
        for (text, i) in zip(texts, ids) { #expect(tokenizer.encode(text).ids == i, "\(text)") }
        var states: BertHiddenStates?
        let forwardTime = try clock.measure { states = try model.hiddenStates(batch: ids, layers: layers) }
        let s = try #require(states)
        var errors: [String] = []
        for (j, layer) in layers.enumerated() {
            for b in texts.indices {
                let rows = s.sequence(b, layer: layer), t = s.lengths[b], d = s.dim
                var mean = [Float](repeating: 0, count: d)
                for (k, v) in rows.enumerated() { mean[k % d] += v / Float(t) }
                let start = (j * texts.count + b) * d
                let w = Array(want[start..<(start + d)])
                // Qwen's residual stream has a few huge dimensions (|x| ≈ 60 at layer 12), which make the
                // max-abs measure lenient on the rest: the L2 one is checked too.
                let err = DecoderForwardTests.relativeError(mean, w)
                let l2 = (zip(mean, w).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }).squareRoot()
                    / (w.reduce(Float(0)) { $0 + $1 * $1 }).squareRoot()
                errors.append(String(format: "L%d/%d %.1e (L2 %.1e)", layer, b, err, l2))
                #expect(err <= 1e-3 && l2 <= 1e-3, "layer \(layer) snippet \(b): relative error \(err), L2 \(l2)")
            }
        }
        print("decoder Qwen2.5-Coder mean: relative errors \(errors.joined(separator: ", ")); load \(loadTime) " +
              "(\(model.weightSource.rawValue)), \(s.lengths.reduce(0, +)) tokens in \(forwardTime)")
    }
}
