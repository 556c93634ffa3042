/// The pre-tokenizer split of byte-level BPE models, hand-written over Unicode scalars (no regex
/// engine): GPT-2's pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
/// as Hugging Face's ByteLevel pre-tokenizer applies it; `smollm` first isolates every `\p{N}`
/// scalar (the `Digits(individual_digits)` step, llama.cpp's `\p{N}` regex).
///
/// ```swift
/// BPEPreTokenizer.smollm.split(Array("x = 42".unicodeScalars))  // ranges of "x", " =", " ", "4", "2"
/// ```
public enum BPEPreTokenizer: String, Sendable, CaseIterable {
    /// GPT-2's pattern alone (`tokenizer.ggml.pre` = `gpt2`).
    case gpt2
    /// Every number scalar isolated, then GPT-2's pattern (SmolLM, StarCoder-style vocabularies).
    case smollm
    /// Qwen2's pattern: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case qwen2
    /// Llama 3's pattern (`llama-bpe`): Qwen2's with numbers in runs of up to three, `\p{N}{1,3}`.
    case llamaBPE = "llama-bpe"

    /// `tokenizer.ggml.pre` → pre-tokenizer; nil for the ones not implemented.
    public init?(ggmlName: String) {
        switch ggmlName {
        case "gpt2", "default": self = .gpt2
        case "smollm", "codeshell", "starcoder", "refact": self = .smollm
        case "qwen2", "deepseek-r1-qwen": self = .qwen2
        case "llama-bpe", "llama3": self = .llamaBPE
        default: return nil
        }
    }

    /// The pieces of `s[range]`, in order, covering it.
    public func split(_ s: [Unicode.Scalar], in range: Range<Int>? = nil) -> [Range<Int>] {
        let range = range ?? 0..<s.count
        var pieces: [Range<Int>] = []
        switch self {
        case .gpt2:
            Self.gpt2(s, range, into: &pieces)
        case .smollm:
            var start = range.lowerBound
            for i in range where Self.isNumber(s[i]) {
                if start < i { Self.gpt2(s, start..<i, into: &pieces) }
                pieces.append(i..<(i + 1))
                start = i + 1
            }
            if start < range.upperBound { Self.gpt2(s, start..<range.upperBound, into: &pieces) }
        case .qwen2, .llamaBPE:
            let digits = self == .qwen2 ? 1 : 3
            var i = range.lowerBound
            while i < range.upperBound {
                let n = Self.matchLlama3(s, i, range.upperBound, maxDigits: digits)
                pieces.append(i..<(i + n))
                i += n
            }
        }
        return pieces
    }

    @inline(__always) static func isNewline(_ c: Unicode.Scalar) -> Bool { c == "\r" || c == "\n" }

    /// Length of the Qwen2 / Llama 3 pattern's match at `i` (at least 1), alternatives in order.
    static func matchLlama3(_ s: [Unicode.Scalar], _ i: Int, _ end: Int, maxDigits: Int) -> Int {
        let c = s[i]
        // (?i:'s|'t|'re|'ve|'m|'ll|'d) — case-insensitive (ſ folds to s).
        if c == "'", i + 1 < end {
            let a = s[i + 1].properties.lowercaseMapping
            if a == "s" || a == "t" || a == "m" || a == "d" || s[i + 1] == "\u{17F}" { return 2 }
            if i + 2 < end {
                let b = s[i + 2].properties.lowercaseMapping
                if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return 3 }
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        var j = i
        if !isLetter(c), !isNewline(c), !isNumber(c), i + 1 < end, isLetter(s[i + 1]) { j = i + 1 }
        if isLetter(s[j]) {
            var k = j + 1
            while k < end, isLetter(s[k]) { k += 1 }
            return k - i
        }
        // \p{N}{1,maxDigits}
        if isNumber(c) {
            var k = i + 1
            while k < end, k - i < maxDigits, isNumber(s[k]) { k += 1 }
            return k - i
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        j = c == " " && i + 1 < end ? i + 1 : i
        if isOther(s[j]) {
            var k = j + 1
            while k < end, isOther(s[k]) { k += 1 }
            while k < end, isNewline(s[k]) { k += 1 }
            return k - i
        }
        guard isSpace(c) else { return 1 }  // unreachable: every scalar is space, letter, number or other
        var k = i + 1
        while k < end, isSpace(s[k]) { k += 1 }
        // \s*[\r\n]+: up to the run's last newline.
        if let last = (i..<k).last(where: { isNewline(s[$0]) }) { return last + 1 - i }
        // \s+(?!\S), else \s+
        if k == end || k - i == 1 { return k - i }
        return k - i - 1
    }

    @inline(__always) static func isLetter(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return (c.value | 0x20) >= 0x61 && (c.value | 0x20) <= 0x7A }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    @inline(__always) static func isNumber(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return c.value >= 0x30 && c.value <= 0x39 }
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    @inline(__always) static func isSpace(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return c == " " || (c.value >= 0x09 && c.value <= 0x0D) }
        return c.properties.isWhitespace
    }

    /// Neither space, letter nor number: `[^\s\p{L}\p{N}]`.
    @inline(__always) static func isOther(_ c: Unicode.Scalar) -> Bool { !isSpace(c) && !isLetter(c) && !isNumber(c) }

    /// GPT-2's alternation, leftmost-first, at each position of `range`.
    static func gpt2(_ s: [Unicode.Scalar], _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        let end = range.upperBound
        var i = range.lowerBound
        while i < end {
            let n = match(s, i, end)
            pieces.append(i..<(i + n))
            i += n
        }
    }

    /// Length of the match at `i` (at least 1).
    static func match(_ s: [Unicode.Scalar], _ i: Int, _ end: Int) -> Int {
        let c = s[i]
        // 's 't 're 've 'm 'll 'd
        if c == "'", i + 1 < end {
            let a = s[i + 1]
            if a == "s" || a == "t" || a == "m" || a == "d" { return 2 }
            if i + 2 < end {
                let b = s[i + 2]
                if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return 3 }
            }
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
        let j = c == " " && i + 1 < end ? i + 1 : i
        for cls in [isLetter, isNumber, isOther] as [(Unicode.Scalar) -> Bool] where cls(s[j]) {
            var k = j + 1
            while k < end, cls(s[k]) { k += 1 }
            return k - i
        }
        // `\s+(?!\S)`: whitespace not followed by a non-space (backing off one), else `\s+`.
        if isSpace(c) {
            var k = i + 1
            while k < end, isSpace(s[k]) { k += 1 }
            if k == end || k - i == 1 { return k - i }
            return k - i - 1
        }
        return 1  // unreachable: every scalar is space, letter, number or other
    }
}
