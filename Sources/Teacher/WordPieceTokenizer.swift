import Foundation

/// BERT's tokenizer, reproducing Hugging Face `tokenizers`' BertNormalizer + BertPreTokenizer +
/// WordPiece + [CLS]/[SEP] template, with offsets into the original text.
///
/// Steps: special tokens written in the text (`[CLS]`, `[MASK]`, … from `added_tokens`) are
/// matched first, verbatim; the rest is normalised (control characters removed, whitespace → space,
/// spaces around CJK ideographs, accents stripped via NFD when lowercasing unless configured,
/// lowercased), split at whitespace and around punctuation, and each word is split greedily into
/// the longest vocabulary pieces (`##` for continuations; unknown or > 100-character words → [UNK]).
///
/// Padding and truncation settings inside `tokenizer.json` are ignored: callers choose `maxLength`.
///
/// ```swift
/// let tok = try WordPieceTokenizer(directory: URL(fileURLWithPath: ".cache/models/all-MiniLM-L6-v2"))
/// let enc = tok.encode("Hello, world!", maxLength: 512)   // [CLS] hello , world ! [SEP]
/// ```
public struct WordPieceTokenizer: Tokenizer {
    public struct Options: Sendable, Equatable {
        public var cleanText = true
        public var handleChineseChars = true
        /// nil: strip accents iff `lowercase` (BERT's rule).
        public var stripAccents: Bool? = nil
        public var lowercase = true
        public var unkToken = "[UNK]"
        public var continuingSubwordPrefix = "##"
        public var maxInputCharsPerWord = 100
        public var clsToken = "[CLS]"
        public var sepToken = "[SEP]"
        public var padToken = "[PAD]"
        public init() {}
    }

    public let options: Options
    private let vocab: [String: Int32]
    private let idToToken: [String]
    /// Tokens matched verbatim in the raw text before normalisation, longest first.
    private let addedTokens: [(scalars: [Unicode.Scalar], id: Int32, content: String)]
    private let unkID: Int32
    private let clsID: Int32
    private let sepID: Int32
    public let padID: Int32

    public var vocabularySize: Int { idToToken.count }

    /// Builds a tokenizer from a vocabulary (token → id) and options.
    /// `addedTokens` are matched verbatim in the text before normalisation (special tokens).
    public init(vocabulary: [String: Int32], options: Options = Options(), addedTokens: [String: Int32]? = nil) throws {
        self.options = options
        var vocab = vocabulary
        for (t, id) in addedTokens ?? [:] where vocab[t] == nil { vocab[t] = id }
        self.vocab = vocab
        let maxID = Int(vocab.values.max() ?? -1)
        guard maxID >= 0, vocab.values.allSatisfy({ $0 >= 0 }) else { throw TeacherError.invalidTokenizer("empty vocabulary or negative id") }
        var table = [String](repeating: "", count: maxID + 1)
        for (t, id) in vocab { table[Int(id)] = t }
        idToToken = table
        func need(_ t: String) throws -> Int32 {
            guard let id = vocab[t] else { throw TeacherError.invalidTokenizer("vocabulary lacks \(t)") }
            return id
        }
        unkID = try need(options.unkToken)
        clsID = try need(options.clsToken)
        sepID = try need(options.sepToken)
        padID = vocab[options.padToken] ?? 0
        let added = addedTokens ?? Dictionary(uniqueKeysWithValues:
            [options.unkToken, options.clsToken, options.sepToken, options.padToken, "[MASK]"].compactMap { t in vocab[t].map { (t, $0) } })
        self.addedTokens = added.filter { !$0.key.isEmpty }
            .map { (scalars: Array($0.key.unicodeScalars), id: $0.value, content: $0.key) }
            .sorted { $0.scalars.count > $1.scalars.count || ($0.scalars.count == $1.scalars.count && $0.content < $1.content) }
    }

    /// The token string of an id ("" if out of range).
    public func token(for id: Int32) -> String {
        id >= 0 && Int(id) < idToToken.count ? idToToken[Int(id)] : ""
    }

    /// The id of a token string, if in the vocabulary.
    public func id(for token: String) -> Int32? { vocab[token] }

    public func encode(_ text: String, maxLength: Int?, addSpecialTokens: Bool) -> Encoding {
        let original = Array(text.unicodeScalars)
        var ids: [Int32] = []
        var tokens: [String] = []
        var offsets: [TokenOffset] = []
        var special: [Bool] = []
        ids.reserveCapacity(original.count / 3 + 2)

        // 1. Split out added (special) tokens written in the text, leftmost-longest.
        var segmentStart = 0
        var i = 0
        while i < original.count {
            var matched: (len: Int, id: Int32, content: String)? = nil
            if original[i] == "[" || addedTokens.contains(where: { $0.scalars.first == original[i] }) {
                for t in addedTokens where t.scalars.count <= original.count - i {
                    var ok = true
                    for (k, s) in t.scalars.enumerated() where original[i + k] != s { ok = false; break }
                    if ok { matched = (t.scalars.count, t.id, t.content); break }
                }
            }
            if let m = matched {
                tokenizeSegment(original, segmentStart..<i, &ids, &tokens, &offsets)
                ids.append(m.id); tokens.append(m.content); offsets.append(TokenOffset(start: i, end: i + m.len))
                i += m.len
                segmentStart = i
            } else {
                i += 1
            }
        }
        tokenizeSegment(original, segmentStart..<original.count, &ids, &tokens, &offsets)
        special = [Bool](repeating: false, count: ids.count)

        // 2. Truncate, then apply the [CLS] … [SEP] template.
        let added = addSpecialTokens ? 2 : 0
        let untruncated = ids.count + added
        var truncated = false
        if let maxLength, ids.count + added > maxLength {
            let keep = max(0, maxLength - added)
            ids.removeSubrange(keep...); tokens.removeSubrange(keep...)
            offsets.removeSubrange(keep...); special.removeSubrange(keep...)
            truncated = true
        }
        if addSpecialTokens {
            ids.insert(clsID, at: 0); tokens.insert(options.clsToken, at: 0)
            offsets.insert(TokenOffset(start: 0, end: 0), at: 0); special.insert(true, at: 0)
            ids.append(sepID); tokens.append(options.sepToken)
            offsets.append(TokenOffset(start: 0, end: 0)); special.append(true)
        }
        return Encoding(ids: ids, tokens: tokens, offsets: offsets, isSpecial: special,
                        isTruncated: truncated, untruncatedCount: untruncated)
    }

    /// Normalises `original[range]` into scalars with their source index, then pre-tokenises and
    /// WordPiece-splits it, appending to the outputs.
    private func tokenizeSegment(_ original: [Unicode.Scalar], _ range: Range<Int>,
                                 _ ids: inout [Int32], _ tokens: inout [String], _ offsets: inout [TokenOffset]) {
        guard !range.isEmpty else { return }
        let (chars, align) = normalize(original, range)
        // Pre-tokenise: words are maximal runs of non-space, non-punctuation; punctuation alone.
        var wordStart = -1
        var k = 0
        func flush(_ end: Int) {
            if wordStart >= 0 {
                wordPiece(chars, wordStart..<end, align, &ids, &tokens, &offsets)
                wordStart = -1
            }
        }
        while k < chars.count {
            let c = chars[k]
            if BertText.isWhitespace(c) {
                flush(k)
            } else if BertText.isPunctuation(c) {
                flush(k)
                wordPiece(chars, k..<(k + 1), align, &ids, &tokens, &offsets)
            } else if wordStart < 0 {
                wordStart = k
            }
            k += 1
        }
        flush(chars.count)
    }

    /// BertNormalizer: returns normalised scalars and, for each, the index of its source scalar.
    func normalize(_ original: [Unicode.Scalar], _ range: Range<Int>) -> ([Unicode.Scalar], [Int]) {
        var chars: [Unicode.Scalar] = []
        var align: [Int] = []
        chars.reserveCapacity(range.count)
        align.reserveCapacity(range.count)
        let strip = options.stripAccents ?? options.lowercase
        var scratch: [Unicode.Scalar] = []
        for i in range {
            var c = original[i]
            if options.cleanText {
                if c.value == 0 || BertText.isRemovedControl(c) { continue }
                if BertText.isWhitespace(c) { c = " " }
            }
            if c.value < 0x80 {
                // ASCII fast path: no CJK, no decomposition; lowercase A–Z.
                if options.lowercase && c.value >= 65 && c.value <= 90 { c = Unicode.Scalar(c.value + 32)! }
                chars.append(c); align.append(i)
                continue
            }
            if options.handleChineseChars && BertText.isChineseChar(c) {
                chars.append(" "); align.append(i)
                chars.append(c); align.append(i)
                chars.append(" "); align.append(i)
                continue
            }
            scratch.removeAll(keepingCapacity: true)
            if strip {
                BertText.decompose(c, into: &scratch)
                scratch.removeAll(where: BertText.isNonspacingMark)
            } else {
                scratch.append(c)
            }
            for d in scratch {
                if options.lowercase && d.value >= 0x80 {
                    for l in d.properties.lowercaseMapping.unicodeScalars { chars.append(l); align.append(i) }
                } else if options.lowercase && d.value >= 65 && d.value <= 90 {
                    chars.append(Unicode.Scalar(d.value + 32)!); align.append(i)
                } else {
                    chars.append(d); align.append(i)
                }
            }
        }
        return (chars, align)
    }

    /// Greedy longest-match-first WordPiece of one word `chars[word]`.
    private func wordPiece(_ chars: [Unicode.Scalar], _ word: Range<Int>, _ align: [Int],
                           _ ids: inout [Int32], _ tokens: inout [String], _ offsets: inout [TokenOffset]) {
        let wordOffset = TokenOffset(start: align[word.lowerBound], end: align[word.upperBound - 1] + 1)
        if word.count > options.maxInputCharsPerWord {
            ids.append(unkID); tokens.append(options.unkToken); offsets.append(wordOffset)
            return
        }
        let firstNew = ids.count
        var start = word.lowerBound
        while start < word.upperBound {
            var end = word.upperBound
            var found: (String, Int32)? = nil
            while end > start {
                var piece = start > word.lowerBound ? options.continuingSubwordPrefix : ""
                piece.unicodeScalars.append(contentsOf: chars[start..<end])
                if let id = vocab[piece] { found = (piece, id); break }
                end -= 1
            }
            guard let (piece, id) = found else {
                ids.removeSubrange(firstNew...); tokens.removeSubrange(firstNew...); offsets.removeSubrange(firstNew...)
                ids.append(unkID); tokens.append(options.unkToken); offsets.append(wordOffset)
                return
            }
            ids.append(id); tokens.append(piece)
            offsets.append(TokenOffset(start: align[start], end: align[end - 1] + 1))
            start = end
        }
    }
}
