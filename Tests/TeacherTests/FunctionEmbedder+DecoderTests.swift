import Core
import Foundation
import Testing
import TestSupport
@testable import Teacher

/// `FunctionEmbedder` over a causal model (the real SmolLM2 GGUF; skipped when absent): the signature
/// kinds read off the joined pass equal those of a pass over the signature alone (what the embedder
/// runs when `body_mean` is not asked for), token counts are the tokenizer's, and texts without any
/// token (no BOS in SmolLM2) are zero vectors instead of a failed forward.
@Suite(.ownThreads) struct FunctionEmbedderDecoderTests {
    static let model = Result { try DecoderModel.load(path: GGUFSmolLM2Tests.path, name: "smollm2") }

    static func relDiff(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        let diff = zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        return diff / max(b.reduce(0) { max($0, abs($1)) }, .leastNormalMagnitude)
    }

    static let functions = [
        FunctionText(signature: "def add(a, b):", body: "    return a + b\n"),
        FunctionText(signature: "def stub(x):", body: ""),
        FunctionText(signature: "", body: "    pass\n"),
        FunctionText(signature: "    @property\n    def name(self) -> str:", body: "        return self._name\n"),
    ]

    @Test(.enabled(if: GGUFSmolLM2Tests.present, "SmolLM2 GGUF absent: run `make model-smollm2`"))
    func signatureKindsFromTheJoinedPassEqualASignaturePass() throws {
        let model = try Self.model.get()
        let embedder = FunctionEmbedder(model: model)
        #expect(model.attention == .causal && model.family == "llama" && model.name == "smollm2")
        let tok = try #require(model.tokenizer)
        let layers = [0, 15, 30]
        let all = try embedder.embed(functions: Self.functions, layers: layers, kinds: Set(SpaceKind.teacherKinds), batchSize: 2)
        let sigOnly = try embedder.embed(functions: Self.functions, layers: layers, kinds: [.sigTokens, .sigMean], batchSize: 3)
        for (i, f) in Self.functions.enumerated() {
            let sigCount = tok.encode(f.signature).count, bodyCount = tok.encode(f.body).count
            #expect(all[i].tokenCounts[.sigMean] == sigCount && sigOnly[i].tokenCounts[.sigTokens] == sigCount, "function \(i)")
            #expect(all[i].tokenCounts[.bodyOnlyMean] == bodyCount, "function \(i)")
            for l in layers {
                for kind in [SpaceKind.sigMean, .sigTokens] {
                    let a = try #require(all[i].vector(layer: l, kind: kind)), b = try #require(sigOnly[i].vector(layer: l, kind: kind))
                    #expect(a.count == (kind == .sigTokens ? sigCount * 576 : 576), "function \(i) \(kind)")
                    #expect(Self.relDiff(a, b) <= 1e-5, "function \(i) layer \(l) \(kind): \(Self.relDiff(a, b))")
                }
            }
        }
        // No tokens: zero vectors (a mean over nothing), no forward.
        let zero = [Float](repeating: 0, count: 576)
        #expect(all[1].vector(layer: 15, kind: .bodyOnlyMean) == zero && all[1].tokenCounts[.bodyOnlyMean] == 0)
        #expect(all[1].vector(layer: 15, kind: .bodyMean) == zero && all[1].tokenCounts[.bodyMean] == 0)
        #expect(all[2].vector(layer: 15, kind: .sigMean) == zero && all[2].vector(layer: 15, kind: .sigTokens) == [])
        // body_mean's tokens start at or after the body's first character: the newline joins the first
        // line's indentation ("\n    "), so that token counts for neither part.
        let joined = tok.encode("\n    pass\n")
        #expect(all[2].tokenCounts[.bodyMean] == joined.offsets.filter { $0.start >= 1 }.count)
        #expect(all[2].tokenCounts[.bodyMean] == tok.encode("    pass\n").count - 1)
        let texts = try embedder.embed(texts: ["", "def f(): pass"], layer: 15)
        #expect(texts[0] == zero && texts[1] != zero)
    }

    @Test(.enabled(if: GGUFSmolLM2Tests.present, "SmolLM2 GGUF absent: run `make model-smollm2`"))
    func causalJoinedKeepsTheSignaturesOwnTokens() throws {
        let tok = try #require(try Self.model.get().tokenizer)
        let f = FunctionText(signature: "def add(a, b):", body: "    return a + b\n")
        let (e, sig, body) = FunctionEmbedder.causalJoined(f, tokenizer: tok, maxLength: 8_192)
        let alone = tok.encode(f.signature)
        #expect(Array(e.ids[sig]) == alone.ids && sig == 0..<alone.count)
        // The same ids as tokenizing the joined text (Python signatures end in ':' before the newline).
        #expect(e.ids == tok.encode(f.signature + "\n" + f.body).ids)
        #expect(body.lowerBound > sig.upperBound && body.upperBound == e.count)
        #expect(e.offsets[body.lowerBound].start >= f.signature.unicodeScalars.count + 1)
        // Cut at maxLength: the signature first, then as much of the body as fits.
        let cut = FunctionEmbedder.causalJoined(f, tokenizer: tok, maxLength: alone.count + 2)
        #expect(cut.encoding.count == alone.count + 2 && cut.encoding.isTruncated && cut.encoding.untruncatedCount == e.count)
    }
}
