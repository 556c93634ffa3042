import Core
import Foundation
import Testing
import TestSupport
@testable import Teacher

/// `body_tokens`: the states of the body's tokens in the joined pass — exactly the rows whose mean is
/// `body_mean` — for the real MiniLM encoder (token counts against the numpy reference) and the real
/// SmolLM2 decoder (causal: one joined pass also gives the signature kinds).
@Suite(.ownThreads) struct FunctionEmbedderBodyTokensTests {
    /// Checks, for every function and layer, that `bodyTokens` has `tokenCounts[.bodyMean]` rows
    /// whose mean (in Double) is `bodyMean` within 1e-6 of its largest value, and that asking for
    /// `bodyTokens` alone gives the same rows. Returns the embeddings of both kinds.
    @discardableResult
    static func checkRowsAreTheMeansRows(_ embedder: FunctionEmbedder, _ functions: [FunctionText], layers: [Int],
                                         batchSize: Int) throws -> [FunctionEmbedding] {
        let d = embedder.model.hiddenSize
        let both = try embedder.embed(functions: functions, layers: layers, kinds: [.bodyMean, .bodyTokens], batchSize: batchSize)
        let alone = try embedder.embed(functions: functions, layers: layers, kinds: [.bodyTokens], batchSize: batchSize)
        for (i, e) in both.enumerated() {
            let n = try #require(e.tokenCounts[.bodyTokens], "function \(i)")
            #expect(n == e.tokenCounts[.bodyMean] && e.truncated[.bodyTokens] == e.truncated[.bodyMean], "function \(i)")
            #expect(alone[i].tokenCounts == [.bodyTokens: n] && alone[i].vector(layer: layers[0], kind: .bodyMean) == nil)
            for l in layers {
                let rows = try #require(e.vector(layer: l, kind: .bodyTokens)), mean = try #require(e.vector(layer: l, kind: .bodyMean))
                #expect(rows.count == n * d, "function \(i) layer \(l)")
                var m = [Double](repeating: 0, count: d)
                for r in 0..<n { for j in 0..<d { m[j] += Double(rows[r * d + j]) } }
                let scale = max(mean.map { abs(Double($0)) }.max() ?? 0, 1e-30)
                let diff = zip(m, mean).map { n == 0 ? abs(Double($1)) : abs($0 / Double(n) - Double($1)) }.max() ?? 0
                #expect(diff / scale <= 1e-6 || (n == 0 && diff == 0), "function \(i) layer \(l): \(diff / scale)")
                let other = try #require(alone[i].vector(layer: l, kind: .bodyTokens))
                // Other batches, same passes: equal to float rounding (relative to the largest state).
                let apart = zip(rows, other).map { abs($0 - $1) }.max() ?? 0, largest = rows.map(abs).max() ?? 0
                #expect(other.count == rows.count && apart <= 1e-5 * max(largest, 1), "function \(i) layer \(l): \(apart)")
            }
        }
        return both
    }

    @Test func encoderBodyTokensAreTheRowsOfBodyMean() throws {
        let model = try BertForwardTests.model.get()
        let ref = try TestPaths.fixtureJSON("function_reference.json")
        let refs = ref["functions"] as! [[String: Any]]
        var functions = refs.map { FunctionText(signature: $0["signature"] as! String, body: $0["body"] as! String) }
        functions.append(FunctionText(signature: "def empty():", body: ""))
        let out = try Self.checkRowsAreTheMeansRows(FunctionEmbedder(model: model), functions, layers: [ref["layer"] as! Int, 6],
                                                    batchSize: 4)
        for (i, r) in refs.enumerated() {
            #expect(out[i].tokenCounts[.bodyTokens] == r["body_token_count"] as? Int, "function \(i)")
        }
        #expect(out.last!.tokenCounts[.bodyTokens] == 0 && out.last!.vector(layer: 6, kind: .bodyTokens) == [])
    }

    /// (Layer 1 only: 512-token passes are slow in debug builds.)
    @Test func aTruncatedBodyKeepsTheRowsThatFit() throws {
        let model = try BertForwardTests.model.get()
        let body = (0..<300).map { "    x\($0) = f(x\($0))" }.joined(separator: "\n")
        let out = try Self.checkRowsAreTheMeansRows(FunctionEmbedder(model: model), [FunctionText(signature: "def long(x):", body: body)],
                                                    layers: [1], batchSize: 2)
        let joinedSig = model.tokenizer.encode("def long(x):", maxLength: nil).count - 2
        #expect(out[0].tokenCounts[.bodyTokens] == 510 - joinedSig && out[0].truncated[.bodyTokens] == true)
    }

    @Test(.enabled(if: GGUFSmolLM2Tests.present, "SmolLM2 GGUF absent: run `make model-smollm2`"))
    func decoderBodyTokensAreTheRowsOfBodyMean() throws {
        let model = try FunctionEmbedderDecoderTests.model.get()
        let embedder = FunctionEmbedder(model: model)
        let functions = FunctionEmbedderDecoderTests.functions
        let out = try Self.checkRowsAreTheMeansRows(embedder, functions, layers: [15], batchSize: 2)
        // With body_tokens and the signature kinds, the signature's rows come from the same joined pass.
        let all = try embedder.embed(functions: functions, layers: [15], kinds: [.sigTokens, .bodyTokens], batchSize: 3)
        let tok = try #require(model.tokenizer)
        for (i, f) in functions.enumerated() {
            #expect(all[i].tokenCounts[.sigTokens] == tok.encode(f.signature).count, "function \(i)")
            #expect(all[i].tokenCounts[.bodyTokens] == out[i].tokenCounts[.bodyTokens], "function \(i)")
        }
        #expect(out[1].tokenCounts[.bodyTokens] == 0 && out[1].vector(layer: 15, kind: .bodyTokens) == [])
    }
}
