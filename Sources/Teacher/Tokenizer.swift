/// Character range of a token in the original text, in Unicode scalars (code points), end exclusive —
/// the same numbers Python's `tokenizers` reports as offsets. Special tokens have (0, 0).
public struct TokenOffset: Sendable, Hashable, Codable {
    public var start: Int
    public var end: Int
    public init(start: Int, end: Int) { self.start = start; self.end = end }
}

/// The result of tokenizing one text.
public struct Encoding: Sendable, Equatable {
    /// Token ids, including the special tokens when they were added.
    public var ids: [Int32]
    /// Token strings (`##` continuation pieces keep their prefix).
    public var tokens: [String]
    /// Offsets into the original text in Unicode scalars (see `TokenOffset`).
    public var offsets: [TokenOffset]
    /// True for tokens added by post-processing ([CLS], [SEP]).
    public var isSpecial: [Bool]
    /// True when tokens were dropped to respect `maxLength`.
    public var isTruncated: Bool
    /// Number of tokens (incl. special tokens) before truncation.
    public var untruncatedCount: Int

    public var count: Int { ids.count }

    public init(ids: [Int32], tokens: [String], offsets: [TokenOffset], isSpecial: [Bool],
                isTruncated: Bool = false, untruncatedCount: Int? = nil) {
        self.ids = ids; self.tokens = tokens; self.offsets = offsets; self.isSpecial = isSpecial
        self.isTruncated = isTruncated; self.untruncatedCount = untruncatedCount ?? ids.count
    }
}

/// A text → token ids tokenizer with offsets back into the text. `WordPieceTokenizer` implements it;
/// a byte-level BPE can join later with the same contract.
///
/// ```swift
/// let tok: any Tokenizer = try WordPieceTokenizer(directory: modelDir)
/// let enc = tok.encode("def f(x): return x", maxLength: 512)
/// print(enc.ids, enc.offsets)
/// ```
public protocol Tokenizer: Sendable {
    /// Number of ids (the model's embedding rows must cover them).
    var vocabularySize: Int { get }
    /// Id used to pad batches.
    var padID: Int32 { get }
    /// Tokenizes `text`; with `addSpecialTokens` the model's template ([CLS] … [SEP]) is applied.
    /// `maxLength` counts special tokens; longer encodings are truncated at the end (nil = no limit).
    func encode(_ text: String, maxLength: Int?, addSpecialTokens: Bool) -> Encoding
}

extension Tokenizer {
    public func encode(_ text: String, maxLength: Int? = nil) -> Encoding {
        encode(text, maxLength: maxLength, addSpecialTokens: true)
    }
}
