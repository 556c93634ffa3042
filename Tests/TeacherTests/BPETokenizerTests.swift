import Foundation
import Testing
@testable import Teacher

/// The byte-level BPE tokenizer against Hugging Face `tokenizers` built from SmolLM2's GGUF vocabulary
/// and merges (scripts/reference/teacher_gguf.py tokenizer → Fixtures/gguf/smollm2_tokenizer_reference.json):
/// code, contractions, digits, unicode (combining marks, CJK, emoji ZWJ sequences), odd whitespace and
/// control tokens in the text. The pre-tokenizer split needs no model; ids and offsets need SmolLM2.
@Suite struct BPETokenizerTests {
    static func cases() throws -> [[String: Any]] {
        try #require(try TestPaths.fixtureJSON("gguf/smollm2_tokenizer_reference.json")["cases"] as? [[String: Any]])
    }

    @Test func preTokenizerSplitsLikeHuggingFace() throws {
        for c in try Self.cases() {
            let text = try #require(c["text"] as? String)
            let want = try #require(c["pre_offsets"] as? [[Int]])
            let got = BPEPreTokenizer.smollm.split(Array(text.unicodeScalars)).map { [$0.lowerBound, $0.upperBound] }
            #expect(got == want, "\(text.debugDescription)")
        }
        #expect(BPEPreTokenizer(ggmlName: "smollm") == .smollm && BPEPreTokenizer(ggmlName: "qwen2") == .qwen2)
        #expect(BPEPreTokenizer(ggmlName: "llama-bpe") == .llamaBPE && BPEPreTokenizer(ggmlName: "falcon") == nil)
    }

    /// Qwen2's and Llama 3's patterns against `tokenizers`' Split(Regex) on the same texts plus cases
    /// for their differences (case-insensitive contractions, digit runs, newlines, odd whitespace).
    @Test(arguments: [BPEPreTokenizer.qwen2, .llamaBPE])
    func qwen2AndLlama3PatternsSplitLikeHuggingFace(pre: BPEPreTokenizer) throws {
        let json = try TestPaths.fixtureJSON("gguf/smollm2_tokenizer_reference.json")
        let texts = try #require(json["split_texts"] as? [String])
        let splits = try #require((json["splits"] as? [String: Any])?[pre.rawValue] as? [[[Int]]])
        #expect(texts.count == splits.count && texts.count > 15)
        for (text, want) in zip(texts, splits) {
            let got = pre.split(Array(text.unicodeScalars)).map { [$0.lowerBound, $0.upperBound] }
            #expect(got == want, "\(pre) \(text.debugDescription)")
        }
    }

    @Test(.enabled(if: GGUFSmolLM2Tests.present, "SmolLM2 GGUF absent: run `make model-smollm2`"))
    func idsAndOffsetsMatchHuggingFace() throws {
        let tok = try ByteLevelBPETokenizer(gguf: GGUFFile(path: GGUFSmolLM2Tests.path))
        #expect(tok.vocabularySize == 49_152 && !tok.addBOS && tok.bosID == 1 && tok.eosID == 2 && tok.padID == 2)
        for c in try Self.cases() {
            let text = try #require(c["text"] as? String)
            let enc = tok.encode(text)
            #expect(enc.ids == (c["ids"] as? [Int])?.map(Int32.init), "\(text.debugDescription)")
            #expect(enc.offsets.map { [$0.start, $0.end] } == c["offsets"] as? [[Int]], "\(text.debugDescription)")
            #expect(tok.decode(enc.ids) == c["decoded"] as? String, "\(text.debugDescription)")
        }
        #expect(tok.encode("def add(a, b):").ids == [1604, 803, 24, 81, 28, 278, 727])  // the doc comment's example
        // One 300,000-byte "word" (a single pre-tokenizer piece): merging must not be quadratic.
        let long = String(repeating: "ab", count: 100_000) + String(repeating: "é", count: 50_000)
        let clock = ContinuousClock()
        var encoded = Encoding(ids: [], tokens: [], offsets: [], isSpecial: [])
        let took = clock.measure { encoded = tok.encode(long) }
        #expect(took < .seconds(10), "\(took)")
        #expect(tok.decode(encoded.ids) == long && encoded.offsets.last?.end == 250_000)
        let truncated = tok.encode("def f(x): return x", maxLength: 3)
        #expect(truncated.count == 3 && truncated.isTruncated && truncated.untruncatedCount > 3)
    }
}
