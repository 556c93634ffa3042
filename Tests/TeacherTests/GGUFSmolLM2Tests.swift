import Core
import Foundation
import Testing
import TestSupport
@testable import Teacher

/// The real SmolLM2-135M-Instruct GGUF (`make model-smollm2`) against what the `gguf` Python
/// package reports (Fixtures/gguf/smollm2_summary.json) and its dequantisation of the first rows of
/// a Q4_1 tensor (smollm2_q4_1_rows.npy). Skipped when the model is absent.
@Suite struct GGUFSmolLM2Tests {
    /// `SWEJEPA_SMOLLM2` (a .gguf path), else the file `make model-smollm2` unpacks.
    static var path: String {
        ProcessInfo.processInfo.environment["SWEJEPA_SMOLLM2"].flatMap { $0.isEmpty ? nil : $0 }
            ?? PackagePaths.root.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf").path
    }
    static var present: Bool { FileManager.default.fileExists(atPath: path) }

    @Test(.enabled(if: present, "SmolLM2 GGUF absent: run `make model-smollm2`"))
    func headerMatchesTheGGUFPackage() throws {
        let file = try GGUFFile(path: Self.path)
        let exp = try TestPaths.fixtureJSON("gguf/smollm2_summary.json")
        #expect(file.fileSize == 98_362_432 && file.fileSize == exp["file_size"] as? Int)
        #expect(file.version == 3 && file.alignment == exp["alignment"] as? Int && file.dataOffset == exp["data_offset"] as? Int)
        #expect(file.architecture == "llama")
        #expect(try file.requireInt("llama.block_count") == 30)
        #expect(try file.requireInt("llama.embedding_length") == 576)
        #expect(try file.requireInt("llama.attention.head_count") == 9)
        #expect(try file.requireInt("llama.attention.head_count_kv") == 3)
        #expect(try file.requireStrings("tokenizer.ggml.tokens").count == 49_152)
        #expect(try file.requireString("tokenizer.ggml.model") == "gpt2")
        #expect(file.metadataKeys.count == exp["metadata_count"] as? Int)
        let tensors = try #require(exp["tensors"] as? [[String: Any]])
        #expect(file.tensors.count == 272 && file.tensors.count == tensors.count)
        for (info, e) in zip(file.tensors, tensors) {
            #expect(info.name == e["name"] as? String && info.type.description == e["type"] as? String
                    && info.dimensions == e["dims"] as? [Int] && info.offset == e["offset"] as? Int, "\(info.name)")
        }
        var counts: [String: Int] = [:]
        for t in file.tensors { counts[t.type.description, default: 0] += 1 }
        #expect(counts == exp["type_counts"] as? [String: Int])
        #expect(counts == ["Q4_1": 210, "F32": 61, "Q8_0": 1])
    }

    @Test(.enabled(if: present, "SmolLM2 GGUF absent: run `make model-smollm2`"))
    func aQ4_1TensorDequantisesLikeTheGGUFPackage() throws {
        let file = try GGUFFile(path: Self.path)
        let exp = try TestPaths.fixtureJSON("gguf/smollm2_summary.json")
        let ref = try #require(exp["q4_1_reference"] as? [String: Any])
        let name = try #require(ref["name"] as? String)
        let rows = try #require(ref["rows"] as? Int)
        let info = try #require(file.tensor(name))
        #expect(info.type == .q4_1)
        let want = try NPYArray(data: Data(contentsOf: GGUFTests.dir.appendingPathComponent("smollm2_q4_1_rows.npy")))
        #expect(want.shape == [rows, info.rowLength])
        let got = try file.floats(name, rows: 0..<rows)
        #expect(got.map(\.bitPattern) == (try want.floats()).map(\.bitPattern))
        let whole = try file.floats(name, shape: info.shape)
        #expect(whole.prefix(rows * info.rowLength).map(\.bitPattern) == got.map(\.bitPattern))
    }

    /// Every tensor of the model converts (and how fast: a line for the log, not an assertion).
    @Test(.enabled(if: present, "SmolLM2 GGUF absent: run `make model-smollm2`"))
    func everyTensorDequantises() throws {
        let file = try GGUFFile(path: Self.path)
        let clock = ContinuousClock()
        var bytes = 0, elements = 0
        var took = Duration.zero
        for t in file.tensors {
            var f: [Float] = []
            took += try clock.measure { f = try file.floats(t.name) }
            #expect(f.count == t.elementCount)
            let finite = f.withUnsafeBufferPointer { b in b.reduce(Float(0)) { $0 + $1 * 0 }.isFinite }  // NaN/inf propagate
            #expect(finite, "\(t.name)")
            bytes += t.byteCount
            elements += f.count
        }
        let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) * 1e-18
        print(String(format: "gguf: SmolLM2 dequantised, %d tensors, %.1f MB → %.1f M floats in %.2f s (%.0f MB/s of GGUF data)",
                     file.tensors.count, Double(bytes) / 1e6, Double(elements) / 1e6, seconds, Double(bytes) / 1e6 / seconds))
    }
}
