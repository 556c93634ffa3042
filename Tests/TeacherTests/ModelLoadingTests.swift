import Foundation
import Testing
import TestSupport
@testable import Teacher

/// A tiny random BERT written by scripts/reference/teacher_numpy_bert.py: `bert.`-prefixed names,
/// mixed F32/F16/BF16, two shards with an index, vocab.txt only — against the numpy forward.
@Suite(.ownThreads) struct ModelLoadingTests {
    static let tinyDir = TestPaths.fixtures.appendingPathComponent("tiny-bert")

    @Test func tinyShardedMixedDTypeModelMatchesNumpy() throws {
        let model = try BertModel.load(directory: Self.tinyDir)
        #expect(model.config.hiddenSize == 32 && model.layerCount == 2 && model.config.layerNormEps == 1e-5)
        let ref = try TestPaths.fixtureJSON("tiny_reference.json")
        let inputs = ref["inputs"] as! [[String: Any]]
        let batch = inputs.map { ($0["ids"] as! [Int]).map(Int32.init) }
        let out = try model.hiddenStates(batch: batch, layers: [0, 1, 2])
        for (b, input) in inputs.enumerated() {
            let states = input["states"] as! [[Double]]
            for l in 0...2 {
                let expected = states[l].map(Float.init)
                let got = Array(out.sequence(b, layer: l))
                #expect(got.count == expected.count)
                let diff = zip(got, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                #expect(diff <= 1e-4, "input \(b) layer \(l): \(diff)")
            }
        }
        // vocab.txt fallback tokenizer: lowercases and splits as BERT.
        let enc = model.tokenizer.encode("DEF a(b):", maxLength: nil)
        #expect(enc.ids == [2, 31, 5, 33, 6, 34, 35, 3])
        #expect(throws: TeacherError.self) { try model.hiddenStates(batch: [[Int32](repeating: 5, count: 17)], layers: [1]) }
    }

    func folderWith(config: String) throws -> URL {
        let dir = try makeTemporaryDirectory("teacher")
        for f in ["vocab.txt", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"] {
            try FileManager.default.copyItem(at: Self.tinyDir.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
        return dir
    }

    @Test func unsupportedOrBrokenConfigsThrowClearly() throws {
        let base = #""vocab_size":40,"hidden_size":32,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":48,"max_position_embeddings":16"#
        let cases: [(String, (TeacherError) -> Bool)] = [
            (#"{"model_type":"gpt2",\#(base)}"#, { if case .unsupportedArchitecture = $0 { return true }; return false }),
            (#"{"model_type":"bert","position_embedding_type":"relative_key",\#(base)}"#, { if case .unsupportedArchitecture = $0 { return true }; return false }),
            (#"{"model_type":"bert","hidden_act":"swish",\#(base)}"#, { if case .unsupportedArchitecture = $0 { return true }; return false }),
            (#"{"model_type":"bert","hidden_size":32}"#, { if case .invalidConfig = $0 { return true }; return false }),
            (#"{"model_type":"bert","vocab_size":40,"hidden_size":30,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":48}"#, { if case .invalidConfig = $0 { return true }; return false }),
            ("not json", { if case .invalidConfig = $0 { return true }; return false }),
            // Config disagreeing with the weights' shapes.
            (#"{"model_type":"bert","vocab_size":40,"hidden_size":32,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":64,"max_position_embeddings":16}"#,
             { if case .shapeMismatch = $0 { return true }; return false }),
            (#"{"model_type":"bert","vocab_size":40,"hidden_size":32,"num_hidden_layers":3,"num_attention_heads":4,"intermediate_size":48,"max_position_embeddings":16}"#,
             { if case .missingTensor = $0 { return true }; return false }),
        ]
        for (config, isExpected) in cases {
            let dir = try folderWith(config: config)
            defer { removeTemporaryDirectory(dir) }
            do {
                _ = try BertModel.load(directory: dir)
                Issue.record("no error for \(config)")
            } catch let e as TeacherError {
                #expect(isExpected(e), "unexpected \(e) for \(config)")
                #expect(!e.description.isEmpty)
            }
        }
        // Architectures without model_type are accepted when they are Bert*.
        let ok = try folderWith(config: #"{"architectures":["BertForMaskedLM"],\#(base)}"#)
        defer { removeTemporaryDirectory(ok) }
        #expect(try BertModel.load(directory: ok).layerCount == 2)
        #expect(throws: TeacherError.self) { try BertModel.load(directory: ok.appendingPathComponent("missing")) }
    }
}
