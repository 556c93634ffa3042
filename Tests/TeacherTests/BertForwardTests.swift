import Foundation
import Testing
import TestSupport
@testable import Teacher

/// The Swift forward against the numpy reference (scripts/reference/teacher_numpy_bert.py) on the
/// real all-MiniLM-L6-v2 weights: every layer, ≤ 1e-4 max abs difference.
@Suite(.ownThreads, .serialized) struct BertForwardTests {
    static let model: Result<BertModel, Error> = Result { try BertModel.load(directory: PackagePaths.modelDirectory) }

    struct Reference {
        var ids: [[Int32]] = []
        var texts: [String] = []
        var pooled: [[Float]] = []
        var states: [[[Float]]] = []   // input → layer → T × D
        var layers = 0
    }

    static func reference() throws -> Reference {
        let json = try TestPaths.fixtureJSON("bert_reference.json")
        let blob = try Data(contentsOf: TestPaths.fixtures.appendingPathComponent("bert_reference.f32"))
        let floats: [Float] = blob.withUnsafeBytes { raw in
            (0..<(blob.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        var ref = Reference()
        let d = json["hidden_size"] as! Int
        ref.layers = json["layers"] as! Int
        var cursor = 0
        for input in json["inputs"] as! [[String: Any]] {
            let ids = (input["ids"] as! [Int]).map(Int32.init)
            ref.ids.append(ids)
            ref.texts.append(input["text"] as! String)
            ref.pooled.append((input["pooled_normalized"] as! [Double]).map(Float.init))
            var perLayer: [[Float]] = []
            for _ in 0..<ref.layers {
                perLayer.append(Array(floats[cursor..<(cursor + ids.count * d)]))
                cursor += ids.count * d
            }
            ref.states.append(perLayer)
        }
        #expect(cursor == floats.count)
        return ref
    }

    static func maxAbsDiff<A: Collection<Float>, B: Collection<Float>>(_ a: A, _ b: B) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test func everyLayerMatchesNumpyUnbatched() throws {
        let model = try Self.model.get()
        let ref = try Self.reference()
        let all = Array(0..<ref.layers)
        var worst: Float = 0
        defer { print("MiniLM forward: max abs diff vs numpy over all inputs and layers: \(worst)") }
        for (i, ids) in ref.ids.enumerated() {
            let tokenized = model.tokenizer.encode(ref.texts[i], maxLength: 512)
            #expect(tokenized.ids == ids)
            let out = try model.hiddenStates(batch: [ids], layers: all)
            for l in all {
                let diff = Self.maxAbsDiff(out.sequence(0, layer: l), ref.states[i][l])
                worst = max(worst, diff)
                #expect(diff <= 1e-4, "input \(i) layer \(l): max abs diff \(diff)")
            }
        }
    }

    @Test func batchedWithPaddingEqualsUnbatched() throws {
        let model = try Self.model.get()
        let ref = try Self.reference()
        let all = Array(0..<ref.layers)
        // Different lengths in one batch, twice, in another order.
        let batch = ref.ids + ref.ids.reversed()
        let out = try model.hiddenStates(batch: batch, layers: all)
        let (padded, t) = out.padded(layer: 6)
        #expect(t == batch.map(\.count).max()!)
        for (b, ids) in batch.enumerated() {
            let i = ref.ids.firstIndex(of: ids)!
            for l in all {
                let diff = Self.maxAbsDiff(out.sequence(b, layer: l), ref.states[i][l])
                #expect(diff <= 1e-4, "batch item \(b) layer \(l): max abs diff \(diff)")
            }
            let row = padded[(b * t * 384)..<(b * t * 384 + ids.count * 384)]
            #expect(Array(row) == Array(out.sequence(b, layer: 6)))
            #expect(padded[(b * t * 384 + ids.count * 384)..<((b + 1) * t * 384)].allSatisfy { $0 == 0 })
        }
        // Unbatched runs agree with the batched run to float rounding.
        for (b, ids) in batch.enumerated() {
            let single = try model.hiddenStates(batch: [ids], layers: [3])
            #expect(Self.maxAbsDiff(single.sequence(0, layer: 3), out.sequence(b, layer: 3)) <= 1e-5)
        }
    }

    @Test func pooledEmbeddingMatchesSentenceTransformers() throws {
        let model = try Self.model.get()
        let ref = try Self.reference()
        let embedder = FunctionEmbedder(model: model)
        let vectors = try embedder.embed(texts: ref.texts, layer: model.layerCount)
        for (i, v) in vectors.enumerated() {
            #expect(v.count == 384)
            #expect(Self.maxAbsDiff(v, ref.pooled[i]) <= 1e-5, "pooled \(i)")
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
        // Published sentence-transformers value for "This is an example sentence".
        let published: [Float] = [0.0677, 0.0635, 0.0487, 0.0793, 0.0374]
        let example = try embedder.embed(texts: ["This is an example sentence"], layer: 6)[0]
        #expect(Self.maxAbsDiff(example.prefix(5), published) <= 1e-3)
    }

    @Test func badInputsThrow() throws {
        let model = try Self.model.get()
        #expect(throws: TeacherError.self) { try model.hiddenStates(batch: [], layers: [1]) }
        #expect(throws: TeacherError.self) { try model.hiddenStates(batch: [[]], layers: [1]) }
        #expect(throws: TeacherError.self) { try model.hiddenStates(batch: [[101, 102]], layers: [7]) }
        #expect(throws: TeacherError.self) { try model.hiddenStates(batch: [[101, 40000, 102]], layers: [1]) }
        #expect(throws: TeacherError.self) { try model.hiddenStates(batch: [[Int32](repeating: 1000, count: 513)], layers: [1]) }
        // 512 tokens is the limit and works.
        let long = try model.hiddenStates(batch: [[Int32](repeating: 1000, count: 512)], layers: [1])
        #expect(long.sequence(0, layer: 1).allSatisfy { $0.isFinite })
    }
}
