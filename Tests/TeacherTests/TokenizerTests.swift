import Foundation
import Testing
import TestSupport
@testable import Teacher

/// WordPiece against Hugging Face `tokenizers` (fixture by scripts/reference/teacher_tokenizer.py).
@Suite(.ownThreads) struct TokenizerTests {
    let fixture: [String: Any]
    let tok: WordPieceTokenizer

    init() throws {
        fixture = try TestPaths.fixtureJSON("tokenizer_reference.json")
        tok = try WordPieceTokenizer(directory: PackagePaths.modelDirectory)
    }

    func check(_ expected: [String: Any], _ got: Encoding, _ label: String) {
        let ids = (expected["ids"] as! [Int]).map(Int32.init)
        let tokens = expected["tokens"] as! [String]
        let offsets = (expected["offsets"] as! [[Int]]).map { TokenOffset(start: $0[0], end: $0[1]) }
        let special = (expected["special"] as! [Int]).map { $0 == 1 }
        #expect(got.ids == ids, "ids differ for \(label)")
        #expect(got.tokens == tokens, "tokens differ for \(label)")
        #expect(got.offsets == offsets, "offsets differ for \(label)")
        #expect(got.isSpecial == special, "special mask differs for \(label)")
        if got.ids != ids, let i = zip(got.ids, ids).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            print("first difference at \(i): got \(got.tokens[max(0, i - 2)..<min(got.tokens.count, i + 3)]) expected \(tokens[max(0, i - 2)..<min(tokens.count, i + 3)])")
        }
    }

    @Test func idsAndOffsetsEqualHuggingFace() throws {
        let cases = fixture["cases"] as! [[String: Any]]
        #expect(cases.count >= 20)
        for c in cases {
            let text = c["text"] as! String
            let label = String(text.prefix(40)).debugDescription
            let full = c["full"] as! [String: Any]
            let enc = tok.encode(text, maxLength: nil)
            check(full, enc, label)
            #expect(!enc.isTruncated)
            let trunc = tok.encode(text, maxLength: 512)
            if let t = c["truncated512"] as? [String: Any] {
                check(t, trunc, label + " @512")
                #expect(trunc.isTruncated && trunc.count == 512 && trunc.untruncatedCount == enc.count)
            } else {
                #expect(trunc == enc)
            }
        }
    }

    /// Every code point: which are removed, mapped to space, punctuation, stripped as accents.
    @Test func characterClassesEqualHuggingFaceOverAllOfUnicode() throws {
        let classes = fixture["classes"] as! [String: [[Int]]]
        func set(_ name: String) -> Set<UInt32> {
            var s = Set<UInt32>()
            for r in classes[name]! { for v in r[0]...r[1] { s.insert(UInt32(v)) } }
            return s
        }
        let removed = set("removed"), whitespace = set("whitespace"), punct = set("punctuation"), stripped = set("stripped")
        var bad: [String: [UInt32]] = [:]
        for v in UInt32(0)...0x10FFFF {
            guard let c = Unicode.Scalar(v) else { continue }
            let isRemoved = v == 0 || BertText.isRemovedControl(c)
            if isRemoved != removed.contains(v) { bad["removed", default: []].append(v) }
            if !isRemoved && BertText.isWhitespace(c) != whitespace.contains(v) { bad["whitespace", default: []].append(v) }
            let isPunct = BertText.isPunctuation(c) && !BertText.isWhitespace(c)
            if isPunct != punct.contains(v) { bad["punct", default: []].append(v) }
        }
        var opts = WordPieceTokenizer.Options()
        opts.cleanText = false; opts.handleChineseChars = false; opts.stripAccents = true; opts.lowercase = false
        let stripper = try WordPieceTokenizer(vocabulary: ["[UNK]": 0, "[CLS]": 1, "[SEP]": 2], options: opts)
        for v in UInt32(0x80)...0x10FFFF {
            guard let c = Unicode.Scalar(v) else { continue }
            let empty = stripper.normalize([c], 0..<1).0.isEmpty
            if empty != stripped.contains(v) { bad["stripped", default: []].append(v) }
        }
        for (k, v) in bad { print(k, v.count, v.prefix(20).map { String($0, radix: 16) }) }
        #expect(bad.isEmpty)
    }

    /// The full normaliser (clean, CJK, strip accents, lowercase) on every code point it changes.
    @Test func normalizerMatchesPerCodePoint() throws {
        let mapped = fixture["normalized"] as! [String: String]
        var bad: [String] = []
        for (k, expected) in mapped {
            let c = Unicode.Scalar(UInt32(k)!)!
            let (chars, _) = tok.normalize([c], 0..<1)
            var s = ""; s.unicodeScalars.append(contentsOf: chars)
            if s != expected { bad.append("\(k): \(Array(expected.unicodeScalars).map { String($0.value, radix: 16) }) got \(chars.map { String($0.value, radix: 16) })") }
        }
        // Code points that the fixture does not list must come out unchanged (outside CJK and Hangul).
        var unchanged = 0
        for v in UInt32(0x80)...0x2FFFF where mapped[String(v)] == nil {
            guard let c = Unicode.Scalar(v), !BertText.isChineseChar(c), !(0xAC00...0xD7A3).contains(v),
                  !BertText.isRemovedControl(c), !BertText.isWhitespace(c) else { continue }
            let (chars, _) = tok.normalize([c], 0..<1)
            if chars != [c] { bad.append("\(String(v, radix: 16)) changed to \(chars.map { String($0.value, radix: 16) })") } else { unchanged += 1 }
        }
        print("normalizer mismatches:", bad.count, bad.prefix(20))
        #expect(bad.isEmpty)
        #expect(unchanged > 50_000)
    }

    @Test func vocabTxtFallbackGivesTheSameIds() throws {
        let dir = try makeTemporaryDirectory("teacher")
        defer { removeTemporaryDirectory(dir) }
        try FileManager.default.copyItem(at: PackagePaths.modelDirectory.appendingPathComponent("vocab.txt"), to: dir.appendingPathComponent("vocab.txt"))
        let fallback = try WordPieceTokenizer(directory: dir)
        for c in (fixture["cases"] as! [[String: Any]]) {
            let text = c["text"] as! String
            #expect(fallback.encode(text, maxLength: 512) == tok.encode(text, maxLength: 512))
        }
    }

    @Test func unsupportedTokenizerFilesThrow() throws {
        let dir = try makeTemporaryDirectory("teacher")
        defer { removeTemporaryDirectory(dir) }
        #expect(throws: TeacherError.self) { try WordPieceTokenizer(directory: dir) }
        let bpe = #"{"model": {"type": "BPE", "vocab": {}, "merges": []}}"#
        try Data(bpe.utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        #expect(throws: TeacherError.self) { try WordPieceTokenizer(directory: dir) }
        try Data("not json".utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        #expect(throws: TeacherError.self) { try WordPieceTokenizer(directory: dir) }
    }
}
