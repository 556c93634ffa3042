import Core
import Foundation
import Testing
import TestSupport
@testable import Teacher

/// A broken model folder is `bad_model` (422) and a bad argument `invalid_parameter` (400); never a 500.
@Suite struct TeacherErrorTests {
    static let cases: [(TeacherError, Int, String)] = [
        (.missingFile("model.safetensors"), 422, "bad_model"),
        (.unsupportedArchitecture("model_type gpt2"), 422, "bad_model"),
        (.invalidConfig("not a JSON object"), 422, "bad_model"),
        (.invalidTokenizer("vocabulary lacks [CLS]"), 422, "bad_model"),
        (.invalidSafetensors(file: "model.safetensors", reason: "cannot stat"), 422, "bad_model"),
        (.invalidGGUF(file: "model.gguf", problem: .unsupportedVersion(1)), 422, "bad_model"),
        (.missingMetadata(key: "llama.block_count", expected: "an integer"), 422, "bad_model"),
        (.missingTensor("embeddings.word_embeddings.weight"), 422, "bad_model"),
        (.shapeMismatch(tensor: "x", expected: [2], found: [1]), 422, "bad_model"),
        (.unsupportedDType(tensor: "ids", dtype: "I64"), 422, "bad_model"),
        (.modelTooLarge(name: "big.gguf", bytes: 3 << 30, limit: 1 << 30), 422, "model_too_large"),
        (.invalidArgument("empty batch"), 400, "invalid_parameter"),
    ]

    @Test func everyCaseIsACallersFault() {
        for (error, status, code) in Self.cases {
            #expect(error.category.isCallerFault, "\(error)")
            let api = APIError(error)
            #expect(api.status == status && api.code == code && api.message == error.description, "\(api)")
        }
    }

    @Test func brokenFoldersAndBadArgumentsMapThatWay() throws {
        let dir = try makeTemporaryDirectory("teacher-err")
        defer { removeTemporaryDirectory(dir) }
        // Weights missing: only a config and a vocabulary.
        let tiny = ModelLoadingTests.tinyDir
        for f in ["config.json", "vocab.txt"] {
            try FileManager.default.copyItem(at: tiny.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        do { _ = try BertModel.load(directory: dir); Issue.record("loaded a model without weights") }
        catch let e as TeacherError { #expect(APIError(e).status == 422 && e.code == "bad_model", "\(e)") }
        // config.json is garbage.
        try Data("{{ garbage".utf8).write(to: dir.appendingPathComponent("config.json"))
        do { _ = try BertModel.load(directory: dir); Issue.record("loaded a garbage config") }
        catch let e as TeacherError { #expect(APIError(e).status == 422 && e.code == "bad_model", "\(e)") }
        // A sequence longer than the model takes is the caller's.
        let model = try BertModel.load(directory: tiny)
        do { _ = try model.hiddenStates(batch: [[Int32](repeating: 5, count: 17)], layers: [1]); Issue.record("17 tokens accepted") }
        catch let e as TeacherError { #expect(APIError(e).status == 400 && e.code == "invalid_parameter", "\(e)") }
    }
}
