import Core
import Foundation
import Testing
@testable import Teacher

/// The decoder forward against the independent numpy implementation of
/// scripts/reference/teacher_decoder.py (Fixtures/decoder: tiny random GGUFs of llama, qwen2 and
/// qwen3, F32 and quantised, with the reference hidden states of every layer), and the real
/// SmolLM2-135M-Instruct (skipped when absent) against its layer-15 mean-pooled reference.
@Suite struct DecoderForwardTests {
    static let dir = TestPaths.fixtures.appendingPathComponent("decoder")
    static let cases = ["llama_f32", "llama_q8_0", "qwen2_f32", "qwen2_q4_0", "qwen3_f32"]

    /// max |got − want| / max |want|.
    static func relativeError(_ got: some Collection<Float>, _ want: [Float]) -> Float {
        var diff: Float = 0, scale: Float = 0
        for (g, w) in zip(got, want) { diff = max(diff, abs(g - w)); scale = max(scale, abs(w)) }
        return got.count == want.count ? diff / max(scale, .leastNormalMagnitude) : .infinity
    }

    static func load(_ name: String) throws -> (DecoderModel, [[Int32]], [String: NPYArray]) {
        let model = try DecoderModel.load(path: dir.appendingPathComponent("\(name).gguf").path)
        let (batch, ref) = try reference(dir.appendingPathComponent("\(name).npz"))
        return (model, batch, ref)
    }

    /// A reference `.npz` of the reference scripts: the batch (`ids` cut by `lengths`) and every array.
    static func reference(_ url: URL) throws -> ([[Int32]], [String: NPYArray]) {
        let ref = try NPZ.decode(Data(contentsOf: url))
        let ids = try #require(ref["ids"]).int64s().map { Int32($0) }
        let lengths = try #require(ref["lengths"]).int64s().map { Int($0) }
        var batch: [[Int32]] = [], start = 0
        for n in lengths { batch.append(Array(ids[start..<(start + n)])); start += n }
        return (batch, ref)
    }

    @Test(arguments: cases)
    func everyLayerMatchesTheNumpyReference(_ name: String) throws {
        let (model, batch, ref) = try Self.load(name)
        try Self.expectEveryLayer(of: model, batch: batch, equals: ref, label: "decoder \(name)")
    }

    /// Every layer's hidden states of `batch` within 1e-4 relative of the reference's `layer_L` arrays.
    static func expectEveryLayer(of model: DecoderModel, batch: [[Int32]], equals ref: [String: NPYArray], label: String) throws {
        let n = model.layerCount
        let states = try model.hiddenStates(batch: batch, layers: Array(0...n))
        var errors: [String] = []
        for l in 0...n {
            let want = try #require(ref["layer_\(l)"]).floats()
            let err = relativeError(try #require(states.layers[l]), want)
            errors.append(String(format: "%d: %.1e", l, err))
            #expect(err <= 1e-4, "\(label) layer \(l): relative error \(err)")
        }
        print("\(label): max relative error per layer \(errors.joined(separator: ", "))")
    }

    /// A sequence alone gives the states it gets inside a packed batch (no leak across sequences,
    /// positions restart at 0), and asking for one layer gives the same values as asking for all.
    @Test func packedBatchEqualsSingleSequences() throws {
        let (model, batch, _) = try Self.load("qwen2_f32")
        let n = model.layerCount
        let packed = try model.hiddenStates(batch: batch, layers: Array(0...n))
        for (b, seq) in batch.enumerated() {
            let alone = try model.hiddenStates(batch: [seq], layers: [1, n])
            for l in [1, n] {
                #expect(Self.relativeError(packed.sequence(b, layer: l), Array(alone.sequence(0, layer: l))) <= 1e-6, "seq \(b) layer \(l)")
            }
        }
    }

    @Test func configComesFromTheMetadata() throws {
        let file = try GGUFFile(path: Self.dir.appendingPathComponent("qwen3_f32.gguf").path)
        let c = try DecoderConfig(gguf: file)
        #expect(c.architecture == .qwen3 && c.layerCount == 2 && c.hiddenSize == 32 && c.intermediateSize == 64)
        #expect(c.headCount == 4 && c.kvHeadCount == 2 && c.headDim == 16 && c.queryDim == 64 && c.kvDim == 32)
        #expect(c.ropeBase == 1_000_000 && c.ropeScaling == .none && c.contextLength == 64 && c.vocabSize == 48)
        #expect(abs(c.rmsNormEps - 1e-6) < 1e-12)
    }

    /// llama.cpp's converter interleaves each head's halves; the loader restores HF's row order.
    @Test func llamaQKRowsAreUnpermuted() {
        // 2 heads of width 4, one column: GGUF rows (per head) are HF rows 0, 2, 1, 3.
        let gguf: [Float] = [0, 2, 1, 3, 10, 12, 11, 13]
        #expect(DecoderModel.unpermuteHeads(gguf, heads: 2, headDim: 4, columns: 1) == [0, 1, 2, 3, 10, 11, 12, 13])
    }

    @Test func aModelLargerThanTheMemoryLimitIsRefusedWithItsSize() throws {
        let path = Self.dir.appendingPathComponent("llama_f32.gguf").path
        let bytes = DecoderModel.float32Bytes(of: try GGUFFile(path: path))
        #expect(bytes == 4 * (48 * 32 + 32 + 3 * (32 + 32 * 32 + 2 * 16 * 32 + 32 * 32 + 32 + 3 * 64 * 32)))
        #expect(throws: TeacherError.modelTooLarge(name: "llama_f32", bytes: bytes, limit: bytes - 1)) {
            try DecoderModel.load(path: path, memoryLimit: bytes - 1)
        }
        #expect(TeacherError.modelTooLarge(name: "m", bytes: 3 << 29, limit: 1 << 30).description
                == "model m needs 1.50 GiB of Float32 weights; at most 1.00 GiB of this machine's memory may be used")
        let model = try DecoderModel.load(path: path, memoryLimit: bytes)
        #expect(model.weightBytes == bytes)
    }

    @Test func badArgumentsAreRefused() throws {
        let (model, _, _) = try Self.load("llama_f32")
        #expect(throws: TeacherError.self) { try model.hiddenStates(batch: [], layers: [1]) }
        #expect(throws: TeacherError.self) { try model.hiddenStates(batch: [[]], layers: [1]) }
        #expect(throws: TeacherError.self) { try model.hiddenStates(batch: [[1]], layers: [4]) }
        #expect(throws: TeacherError.self) { try model.hiddenStates(batch: [[48]], layers: [1]) }
        #expect(throws: TeacherError.self) { try model.hiddenStates(batch: [Array(repeating: 1, count: 65)], layers: [1]) }
    }

    @Test(.enabled(if: GGUFSmolLM2Tests.present, "SmolLM2 GGUF absent: run `make model-smollm2`"))
    func smolLM2Layer15MeanMatchesTheReference() throws {
        let model = try DecoderModel.load(path: GGUFSmolLM2Tests.path)
        #expect(model.config.architecture == .llama && model.layerCount == 30 && model.config.headDim == 64)
        #expect(model.config.ropeBase == 100_000 && model.config.contextLength == 8192)
        let tokenizer = try #require(model.tokenizer)
        let ref = try TestPaths.fixtureJSON("decoder/smollm2_layer15.json")
        let layer = try #require(ref["layer"] as? Int)
        let cases = try #require(ref["cases"] as? [[String: Any]])
        #expect(cases.count == 3)
        var batch: [[Int32]] = [], wants: [[Float]] = []
        for c in cases {
            let text = try #require(c["text"] as? String)
            let ids = try #require(c["ids"] as? [Int]).map { Int32($0) }
            #expect(tokenizer.encode(text).ids == ids, "\(text)")
            batch.append(ids)
            wants.append(try #require(c["mean"] as? [Double]).map { Float($0) })
        }
        let clock = ContinuousClock()
        var states: BertHiddenStates?
        let took = try clock.measure { states = try model.hiddenStates(batch: batch, layers: [layer]) }
        let s = try #require(states)
        var errors: [String] = []
        for (b, want) in wants.enumerated() {
            let rows = s.sequence(b, layer: layer), t = s.lengths[b], d = s.dim
            var mean = [Float](repeating: 0, count: d)
            for (i, v) in rows.enumerated() { mean[i % d] += v / Float(t) }
            let err = Self.relativeError(mean, want)
            errors.append(String(format: "%.1e", err))
            #expect(err <= 1e-3, "snippet \(b): relative error \(err)")
        }
        print("decoder SmolLM2 layer \(layer) mean: relative errors \(errors.joined(separator: ", ")); \(s.lengths.reduce(0, +)) tokens in \(took)")
    }
}
