import Foundation

extension ByteLevelBPETokenizer {
    /// The split regexes of Qwen2 and Llama 3 `tokenizer.json` files (`Split` before a `ByteLevel`
    /// without its own regex), and the pre-tokenizers they stand for.
    static let splitPatterns: [String: BPEPreTokenizer] = [
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .qwen2,
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .llamaBPE,
    ]

    /// A Hugging Face `tokenizer.json` with a byte-level BPE model (Qwen2/Qwen3, Llama 3, SmolLM2,
    /// GPT-2 style): `model.vocab`, `model.merges` ("a b" strings or [a, b] pairs), `added_tokens`
    /// (matched verbatim first, longest first), and one of the pre-tokenizers `BPEPreTokenizer`
    /// implements — `ByteLevel` with its regex (gpt2), `Digits(individual_digits)` + `ByteLevel`
    /// (smollm), or `Split` with Qwen2's or Llama 3's regex + `ByteLevel` (qwen2, llama-bpe). BOS is
    /// added only when the post-processor's template starts with a special token or
    /// `tokenizer_config.json` (same folder) says `add_bos_token`; EOS never. An `NFC` normalizer is
    /// accepted but not applied (text is tokenized as given; code is almost always NFC already).
    ///
    /// ```swift
    /// let tok = try ByteLevelBPETokenizer(tokenizerJSON: dir.appendingPathComponent("tokenizer.json"))
    /// tok.encode("def f(): pass").ids
    /// ```
    public convenience init(tokenizerJSON url: URL) throws {
        func bad(_ r: String) -> TeacherError { .invalidTokenizer("\(url.lastPathComponent): \(r)") }
        guard let data = try? Data(contentsOf: url) else { throw TeacherError.missingFile(url.lastPathComponent) }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw bad("not a JSON object") }
        guard let model = root["model"] as? [String: Any] else { throw bad("no model") }
        let type = model["type"] as? String ?? "BPE"
        guard type == "BPE" else { throw bad("model type \(type) is not BPE (byte-level BPE only)") }
        if model["byte_fallback"] as? Bool == true { throw bad("byte_fallback BPE (SentencePiece style) is not byte-level BPE") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key] as? String, !v.isEmpty { throw bad("\(key) \"\(v)\" is not supported") }
        }
        guard let vocab = model["vocab"] as? [String: Any] else { throw bad("BPE model has no vocab object") }

        // Tokens by id: the vocabulary, then the added tokens (which may extend it).
        var byID: [Int: String] = [:], types: [Int: Int] = [:]
        func checkedID(_ v: Any?, _ what: String) throws -> Int {
            guard let n = v as? Int, n >= 0, n < 1 << 24 else { throw bad("id of \(what) is not an integer in 0 … 2^24") }
            return n
        }
        for (token, v) in vocab { byID[try checkedID(v, token)] = token }
        for case let added as [String: Any] in root["added_tokens"] as? [Any] ?? [] {
            guard let content = added["content"] as? String, !content.isEmpty else { throw bad("an added token has no content") }
            let id = try checkedID(added["id"], content)
            byID[id] = content
            types[id] = added["special"] as? Bool == true ? 3 : 4
        }
        guard let maxID = byID.keys.max() else { throw bad("empty vocabulary") }
        // Ids no token names (rare) get a placeholder no text or merge can produce (U+0000 is not a byte-level symbol).
        let tokens = (0...maxID).map { byID[$0] ?? "\u{0}unused\($0)" }
        let tokenTypes = (0...maxID).map { types[$0] ?? (byID[$0] == nil ? 5 : 1) }

        var merges: [String] = []
        for case let m in model["merges"] as? [Any] ?? [] {
            if let s = m as? String { merges.append(s) } else if let pair = m as? [String], pair.count == 2 {
                merges.append(pair[0] + " " + pair[1])
            } else { throw bad("merge \(merges.count) is neither \"a b\" nor [a, b]") }
        }

        switch root["normalizer"] {
        case nil, is NSNull: break
        case let n as [String: Any] where n["type"] as? String == "NFC": break
        case let n as [String: Any]: throw bad("normalizer \(n["type"] ?? "?") is not supported (none or NFC)")
        default: throw bad("normalizer is not an object")
        }
        let pre = try Self.preTokenizer(root["pre_tokenizer"], bad)

        // BOS: a post-processor template starting with a special token, or tokenizer_config.json.
        var bos: Int?, eos: Int?, pad: Int?, addBOS = false
        if let id = Self.templateBOS(root["post_processor"]) { bos = id; addBOS = true }
        let configURL = url.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        if let data = try? Data(contentsOf: configURL), let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            let ids = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            func id(_ key: String) -> Int? {
                let v = config[key]
                let content = v as? String ?? (v as? [String: Any])?["content"] as? String
                return content.flatMap { ids[$0] }
            }
            bos = bos ?? id("bos_token")
            eos = id("eos_token")
            pad = id("pad_token")
            if let add = config["add_bos_token"] as? Bool {
                addBOS = add && bos != nil
            }
        }
        try self.init(tokens: tokens, merges: merges, tokenTypes: tokenTypes, preTokenizer: pre, bosID: bos, eosID: eos,
                      padID: pad, addBOS: addBOS, ignoreMerges: model["ignore_merges"] as? Bool ?? false)
    }

    /// The `BPEPreTokenizer` a `pre_tokenizer` object stands for.
    private static func preTokenizer(_ value: Any?, _ bad: (String) -> TeacherError) throws -> BPEPreTokenizer {
        func byteLevel(_ o: [String: Any], regex: Bool) throws {
            guard o["type"] as? String == "ByteLevel" else { throw bad("pre-tokenizer \(o["type"] ?? "?") where ByteLevel was expected") }
            if o["add_prefix_space"] as? Bool == true { throw bad("ByteLevel add_prefix_space is not supported") }
            guard (o["use_regex"] as? Bool ?? true) == regex else {
                throw bad(regex ? "ByteLevel without its regex and no Split before it" : "ByteLevel with its regex after a Split")
            }
        }
        guard let o = value as? [String: Any] else { throw bad("no pre_tokenizer (byte-level BPE needs one)") }
        if o["type"] as? String == "ByteLevel" { try byteLevel(o, regex: true); return .gpt2 }
        guard o["type"] as? String == "Sequence", let steps = o["pretokenizers"] as? [[String: Any]], steps.count == 2 else {
            throw bad("pre-tokenizer \(o["type"] ?? "?") is not supported (ByteLevel, Digits + ByteLevel, Split + ByteLevel)")
        }
        switch steps[0]["type"] as? String {
        case "Digits" where steps[0]["individual_digits"] as? Bool == true:
            try byteLevel(steps[1], regex: true)
            return .smollm
        case "Split":
            guard let pattern = (steps[0]["pattern"] as? [String: Any])?["Regex"] as? String, let pre = splitPatterns[pattern] else {
                throw bad("Split pattern is not Qwen2's or Llama 3's regex")
            }
            guard steps[0]["behavior"] as? String == "Isolated", steps[0]["invert"] as? Bool != true else {
                throw bad("Split behaviour other than Isolated is not supported")
            }
            try byteLevel(steps[1], regex: false)
            return pre
        default:
            throw bad("pre-tokenizer sequence starting with \(steps[0]["type"] ?? "?") is not supported")
        }
    }

    /// The id of the special token a `TemplateProcessing` post-processor (alone or in a `Sequence`)
    /// puts before the text, if any.
    private static func templateBOS(_ value: Any?) -> Int? {
        guard let o = value as? [String: Any] else { return nil }
        if o["type"] as? String == "Sequence" {
            return (o["processors"] as? [Any] ?? []).lazy.compactMap { templateBOS($0) }.first
        }
        guard o["type"] as? String == "TemplateProcessing", let single = o["single"] as? [[String: Any]],
              let first = single.first?["SpecialToken"] as? [String: Any], let name = first["id"] as? String,
              let special = (o["special_tokens"] as? [String: Any])?[name] as? [String: Any],
              let ids = special["ids"] as? [Int], ids.count == 1 else { return nil }
        return ids[0]
    }
}
