import Core
import Foundation
import Testing
import TestSupport
@testable import Teacher

/// The four kinds against the numpy forward with `tokenizers` offsets (function_reference.json).
@Suite(.ownThreads) struct FunctionEmbedderTests {
    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        #expect(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test func fourKindsMatchNumpyReference() throws {
        let model = try BertForwardTests.model.get()
        let ref = try TestPaths.fixtureJSON("function_reference.json")
        let layer = ref["layer"] as! Int
        let refs = ref["functions"] as! [[String: Any]]
        let functions = refs.map { FunctionText(signature: $0["signature"] as! String, body: $0["body"] as! String) }
        // Small batches so passes of different functions share forwards.
        let out = try FunctionEmbedder(model: model).embed(functions: functions, layers: [layer, 6],
                                                           kinds: Set(SpaceKind.teacherKinds), batchSize: 4)
        #expect(out.count == functions.count)
        for (i, r) in refs.enumerated() {
            let e = out[i]
            #expect(e.tokenCounts[.sigTokens] == r["sig_token_count"] as? Int)
            #expect(e.tokenCounts[.sigMean] == r["sig_token_count"] as? Int)
            #expect(e.tokenCounts[.bodyMean] == r["body_token_count"] as? Int)
            #expect(e.tokenCounts[.bodyOnlyMean] == r["body_only_token_count"] as? Int)
            for kind in SpaceKind.teacherKinds {
                #expect(e.truncated[kind] == false)
                #expect(e.vector(layer: 6, kind: kind) != nil)
                guard let expected = (r[kind.rawValue] as? [Double])?.map(Float.init) else { continue }
                let diff = Self.maxAbsDiff(e.vector(layer: layer, kind: kind)!, expected)
                #expect(diff <= 1e-4, "function \(i) \(kind.rawValue): \(diff)")
            }
            #expect(e.vector(layer: layer, kind: .sigTokens)!.count == e.tokenCounts[.sigTokens]! * 384)
        }
    }

    /// (Layer 1 only: 512-token passes are slow in debug builds.)
    @Test func longFunctionsAreTruncatedAndFlagged() throws {
        let model = try BertForwardTests.model.get()
        let body = (0..<300).map { "    x\($0) = f(x\($0))" }.joined(separator: "\n")
        let functions = [
            FunctionText(signature: "def long(x):", body: body),
            FunctionText(signature: "def empty():", body: ""),
            FunctionText(signature: "def " + String(repeating: "a, ", count: 600) + "):", body: "    pass"),
        ]
        let kinds: Set<SpaceKind> = [.sigMean, .bodyMean, .bodyOnlyMean]
        let out = try FunctionEmbedder(model: model).embed(functions: functions, layers: [1], kinds: kinds)
        let tok = model.tokenizer
        // Long body: both body passes cut at 512; the signature pass is not.
        #expect(out[0].truncated == [.sigMean: false, .bodyMean: true, .bodyOnlyMean: true])
        let joinedSig = tok.encode("def long(x):", maxLength: nil).count - 2
        #expect(out[0].tokenCounts[.bodyMean] == 510 - joinedSig)
        #expect(out[0].tokenCounts[.bodyOnlyMean] == 510)
        #expect(out[0].vector(layer: 1, kind: .sigTokens) == nil)
        // Empty body: zero tokens, zero vectors.
        #expect(out[1].tokenCounts[.bodyMean] == 0 && out[1].tokenCounts[.bodyOnlyMean] == 0)
        #expect(out[1].vector(layer: 1, kind: .bodyOnlyMean)! == [Float](repeating: 0, count: 384))
        // Signature longer than the limit: truncated signature, body cut off entirely in the joined pass.
        #expect(out[2].truncated[.sigMean] == true && out[2].tokenCounts[.sigMean] == 510)
        #expect(out[2].truncated[.bodyMean] == true && out[2].tokenCounts[.bodyMean] == 0)
        #expect(out[2].truncated[.bodyOnlyMean] == false)
        // Same results one function at a time (batching is invisible).
        for (i, f) in functions.enumerated() {
            let single = try FunctionEmbedder(model: model).embed(functions: [f], layers: [1], kinds: kinds, batchSize: 1)[0]
            for k in kinds {
                #expect(Self.maxAbsDiff(single.vector(layer: 1, kind: k)!, out[i].vector(layer: 1, kind: k)!) <= 1e-5)
            }
        }
        #expect(throws: TeacherError.self) { try FunctionEmbedder(model: model).embed(functions: functions, layers: [9], kinds: kinds) }
        #expect(throws: TeacherError.self) { try FunctionEmbedder(model: model).embed(functions: functions, layers: [], kinds: kinds) }
    }

    @Test func concurrentCallsAgree() async throws {
        let model = try BertForwardTests.model.get()
        let texts = ["def f(x): return x", "class A: pass", "import os"]
        let embedder = FunctionEmbedder(model: model)
        let expected = try embedder.embed(texts: texts, layer: 4)
        let results = try await withThrowingTaskGroup(of: [[Float]].self) { group in
            for _ in 0..<4 { group.addTask { try embedder.embed(texts: texts, layer: 4) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for r in results { for (a, b) in zip(r, expected) { #expect(Self.maxAbsDiff(a, b) <= 1e-5) } }
    }
}
