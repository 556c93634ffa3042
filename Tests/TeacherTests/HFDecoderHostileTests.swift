import Core
import Foundation
import Testing
import TestSupport
@testable import Teacher

/// Broken and hostile Hugging Face decoder folders: every one is a `TeacherError` of the
/// unprocessable category (`bad_model`, 422 at the server) naming what is wrong, never a crash, and
/// nothing is allocated from a size the files do not back.
@Suite struct HFDecoderHostileTests {
    static let fixtures = HFDecoderTests.dir

    /// A copy of a fixture folder with `edit` applied to its config.json (a JSON object).
    static func folder(_ fixture: String, _ root: URL, config edit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
        let dir = root.appendingPathComponent(fixture + "-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent(fixture), to: dir)
        let url = dir.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        return dir
    }

    static func expectError(_ dir: URL, _ what: String, memoryLimit: Int? = nil, _ matches: (TeacherError) -> Bool) {
        do {
            _ = try DecoderModel.load(directory: dir, memoryLimit: memoryLimit)
            Issue.record("\(what): loaded without an error")
        } catch let e as TeacherError {
            #expect(matches(e), "\(what): unexpected \(e)")
            #expect(e.category == .unprocessable, "\(what): \(e)")
            print("hostile HF folder, \(what): \(e)")
        } catch {
            Issue.record("\(what): not a TeacherError: \(error)")
        }
    }

    static func invalidConfig(_ e: TeacherError) -> Bool { if case .invalidConfig = e { true } else { false } }

    @Test func badConfigValuesAreRefusedByName() throws {
        let root = try makeTemporaryDirectory("hf-hostile")
        defer { removeTemporaryDirectory(root) }
        let cases: [(String, (inout [String: Any]) -> Void, String)] = [
            ("hidden_size 0", { $0["hidden_size"] = 0 }, "hidden_size"),
            ("hidden_size negative", { $0["hidden_size"] = -32 }, "hidden_size"),
            ("hidden_size 10^12", { $0["hidden_size"] = 1_000_000_000_000 }, "hidden_size"),
            ("hidden_size 10^30", { $0["hidden_size"] = 1e30 }, "config.json"),  // Foundation: "not valid JSON" (no Int holds it)
            ("hidden_size a string", { $0["hidden_size"] = "32" }, "hidden_size"),
            ("hidden_size missing", { $0["hidden_size"] = nil }, "hidden_size"),
            ("layers 10^9", { $0["num_hidden_layers"] = 1_000_000_000 }, "num_hidden_layers"),
            ("heads not dividing hidden", { $0["num_attention_heads"] = 5; $0["num_key_value_heads"] = 5 }, "not a multiple"),
            ("kv heads not dividing heads", { $0["num_key_value_heads"] = 3 }, "key/value groups"),
            ("kv heads 0", { $0["num_key_value_heads"] = 0 }, "num_key_value_heads"),
            ("odd head_dim", { $0["head_dim"] = 7 }, "odd"),
            ("heads × head_dim huge", { $0["num_attention_heads"] = 4096; $0["num_key_value_heads"] = 1; $0["head_dim"] = 4096 }, "exceeds"),
            ("rms_norm_eps negative", { $0["rms_norm_eps"] = -1 }, "rms_norm_eps"),
            ("rope_theta 0", { $0["rope_theta"] = 0 }, "rope_theta"),
            ("rope_scaling yarn", { $0["rope_scaling"] = ["type": "yarn", "factor": 4] }, "yarn"),
            ("rope_scaling llama3", { $0["rope_scaling"] = ["rope_type": "llama3", "factor": 8] }, "llama3"),
            ("rope_scaling dynamic", { $0["rope_scaling"] = ["type": "dynamic", "factor": 2] }, "dynamic"),
            ("rope_scaling linear factor 0", { $0["rope_scaling"] = ["type": "linear", "factor": 0] }, "factor"),
            ("hidden_act gelu", { $0["hidden_act"] = "gelu" }, "hidden_act"),
            ("sliding window", { $0["use_sliding_window"] = true }, "sliding"),
            ("max_position_embeddings 0", { $0["max_position_embeddings"] = 0 }, "max_position_embeddings"),
            ("vocab_size a bool", { $0["vocab_size"] = true }, "vocab_size"),
        ]
        for (what, edit, needle) in cases {
            let dir = try Self.folder("qwen2_bf16", root, config: edit)
            Self.expectError(dir, what) { e in Self.invalidConfig(e) && e.description.contains(needle) }
        }
        // Not JSON, no model_type, an architecture we do not run, no config at all.
        let dir = try Self.folder("qwen2_bf16", root)
        try Data("{ not json".utf8).write(to: dir.appendingPathComponent("config.json"))
        Self.expectError(dir, "config not JSON", Self.invalidConfig)
        try Data(#"{"hidden_size": 32}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        Self.expectError(dir, "no model_type") { Self.invalidConfig($0) && $0.description.contains("model_type") }
        try Data(#"{"model_type": "gpt_neox", "hidden_size": 32}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        Self.expectError(dir, "gpt_neox") { if case .unsupportedArchitecture = $0 { true } else { false } }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("config.json"))
        Self.expectError(dir, "no config.json") { if case .missingFile = $0 { true } else { false } }
    }

    @Test func configsDisagreeingWithTheWeightsAreRefused() throws {
        let root = try makeTemporaryDirectory("hf-hostile")
        defer { removeTemporaryDirectory(root) }
        func shape(_ e: TeacherError) -> Bool { if case .shapeMismatch = e { true } else { false } }
        func missing(_ e: TeacherError) -> Bool { if case .missingTensor = e { true } else { false } }
        Self.expectError(try Self.folder("qwen2_bf16", root) { $0["intermediate_size"] = 65 }, "intermediate_size 65", shape)
        Self.expectError(try Self.folder("qwen2_bf16", root) { $0["vocab_size"] = 300 }, "vocab_size 300", shape)
        Self.expectError(try Self.folder("qwen2_bf16", root) { $0["num_hidden_layers"] = 3 }, "3 layers of 2", missing)
        Self.expectError(try Self.folder("qwen3_f16", root) { $0["head_dim"] = 8 }, "qwen3 head_dim 8", shape)
        // Qwen3 without head_dim uses transformers' default 128, which these weights do not have.
        Self.expectError(try Self.folder("qwen3_f16", root) { $0["head_dim"] = nil }, "qwen3 default head_dim", shape)
        // attention_bias on a folder without biases; a qwen2 folder read as llama has no q/k norms to miss but unused biases.
        Self.expectError(try Self.folder("llama_f32", root) { $0["attention_bias"] = true }, "attention_bias without biases", missing)
        Self.expectError(try Self.folder("qwen2_bf16", root) { $0["model_type"] = "qwen3"; $0["head_dim"] = 8 }, "qwen2 weights as qwen3", missing)
        // Too large for the memory allowed: refused before conversion, naming the size.
        let ok = try Self.folder("llama_f32", root)
        let bytes = try DecoderModel.load(directory: ok).weightBytes
        Self.expectError(ok, "memory limit", memoryLimit: bytes - 1) { $0 == .modelTooLarge(name: ok.lastPathComponent, bytes: bytes, limit: bytes - 1) }
    }

    @Test func brokenWeightFilesAreRefused() throws {
        let root = try makeTemporaryDirectory("hf-hostile")
        defer { removeTemporaryDirectory(root) }
        // A shard listed by the index but absent.
        let sharded = try Self.folder("qwen3_f16", root)
        try FileManager.default.removeItem(at: sharded.appendingPathComponent("model-00002-of-00002.safetensors"))
        Self.expectError(sharded, "missing shard") { if case .missingFile = $0 { true } else { false } }
        // An index naming a file outside the folder.
        let escaping = try Self.folder("qwen3_f16", root)
        let indexURL = escaping.appendingPathComponent("model.safetensors.index.json")
        let index = try String(contentsOf: indexURL, encoding: .utf8).replacingOccurrences(of: "\"model-00002-of-00002.safetensors\"", with: "\"../model-00002-of-00002.safetensors\"")
        try index.write(to: indexURL, atomically: true, encoding: .utf8)
        Self.expectError(escaping, "index escaping the folder") { if case .invalidSafetensors = $0 { true } else { false } }
        // No weights at all.
        let empty = try Self.folder("llama_f32", root)
        try FileManager.default.removeItem(at: empty.appendingPathComponent("model.safetensors"))
        Self.expectError(empty, "no weights") { if case .missingFile = $0 { true } else { false } }

        // Rewritten weight files: a tensor of the wrong shape, one of an unsupported dtype, one absent,
        // a header claiming a huge shape, a truncated file.
        let weights = try TestSafeTensorsWriter.read(Self.fixtures.appendingPathComponent("llama_f32/model.safetensors"))
        func variant(_ what: String, _ change: (inout [TestSafeTensorsWriter.Tensor]) -> Void, _ matches: (TeacherError) -> Bool) throws {
            let dir = try Self.folder("llama_f32", root)
            var tensors = weights
            change(&tensors)
            try TestSafeTensorsWriter.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
            Self.expectError(dir, what, matches)
        }
        let q = "model.layers.1.self_attn.q_proj.weight"
        try variant("q_proj of the wrong shape", { t in
            let i = t.firstIndex { $0.name == q }!
            t[i].shape = [16, 64]
        }) { $0 == .shapeMismatch(tensor: q, expected: [32, 32], found: [16, 64]) }
        try variant("I32 weights", { t in
            let i = t.firstIndex { $0.name == q }!
            t[i].dtype = "I32"
        }) { if case .unsupportedDType(q, _) = $0 { true } else { false } }
        try variant("F64 weights", { t in
            let i = t.firstIndex { $0.name == q }!
            t[i].dtype = "F64"; t[i].shape = [16, 32]
        }) { if case .shapeMismatch = $0 { true } else if case .unsupportedDType = $0 { true } else { false } }
        try variant("absent o_proj", { t in t.removeAll { $0.name == "model.layers.0.self_attn.o_proj.weight" } }) {
            $0 == .missingTensor("model.layers.0.self_attn.o_proj.weight")
        }
        try variant("huge claimed shape", { t in
            let i = t.firstIndex { $0.name == q }!
            t[i].shape = [1 << 40, 1 << 40]
        }) { if case .invalidSafetensors = $0 { true } else { false } }
        let truncated = try Self.folder("llama_f32", root)
        let file = truncated.appendingPathComponent("model.safetensors")
        try Data(contentsOf: file).dropLast(1000).write(to: file)
        Self.expectError(truncated, "truncated weights") { if case .invalidSafetensors = $0 { true } else { false } }
    }

    @Test func brokenTokenizersAreRefused() throws {
        let root = try makeTemporaryDirectory("hf-hostile")
        defer { removeTemporaryDirectory(root) }
        let url = Self.fixtures.appendingPathComponent("qwen2_bf16/tokenizer.json")
        let good = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        func invalidTokenizer(_ e: TeacherError) -> Bool { if case .invalidTokenizer = e { true } else { false } }
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("WordPiece model", { t in var m = t["model"] as! [String: Any]; m["type"] = "WordPiece"; t["model"] = m }),
            ("byte fallback", { t in var m = t["model"] as! [String: Any]; m["byte_fallback"] = true; t["model"] = m }),
            ("merge of unknown tokens", { t in var m = t["model"] as! [String: Any]; m["merges"] = ["zz qq"]; t["model"] = m }),
            ("negative id", { t in var m = t["model"] as! [String: Any]; var v = m["vocab"] as! [String: Any]; v["x"] = -1; m["vocab"] = v; t["model"] = m }),
            ("huge id", { t in var m = t["model"] as! [String: Any]; var v = m["vocab"] as! [String: Any]; v["x"] = 1 << 40; m["vocab"] = v; t["model"] = m }),
            ("Metaspace pre-tokenizer", { t in t["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁"] }),
            ("unknown split regex", { t in
                var p = t["pre_tokenizer"] as! [String: Any]; var steps = p["pretokenizers"] as! [[String: Any]]
                steps[0]["pattern"] = ["Regex": "\\w+"]; p["pretokenizers"] = steps; t["pre_tokenizer"] = p }),
            ("NFKC normalizer", { t in t["normalizer"] = ["type": "NFKC"] }),
        ]
        for (what, edit) in cases {
            let dir = try Self.folder("qwen2_bf16", root)
            var t = good
            edit(&t)
            try JSONSerialization.data(withJSONObject: t).write(to: dir.appendingPathComponent("tokenizer.json"))
            Self.expectError(dir, "tokenizer: \(what)", invalidTokenizer)
        }
    }
}
