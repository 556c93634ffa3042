import Foundation

extension WordPieceTokenizer {
    /// Loads `tokenizer.json` from a model folder, or falls back to `vocab.txt`
    /// (+ `tokenizer_config.json` for `do_lower_case`).
    ///
    /// ```swift
    /// let tok = try WordPieceTokenizer(directory: modelDir)
    /// ```
    public init(directory: URL) throws {
        let json = directory.appendingPathComponent("tokenizer.json")
        let vocabTxt = directory.appendingPathComponent("vocab.txt")
        if FileManager.default.fileExists(atPath: json.path) {
            try self.init(tokenizerJSON: json)
        } else if FileManager.default.fileExists(atPath: vocabTxt.path) {
            var options = Options()
            let config = directory.appendingPathComponent("tokenizer_config.json")
            if let data = try? Data(contentsOf: config),
               let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                if let lower = obj["do_lower_case"] as? Bool { options.lowercase = lower }
                if let strip = obj["strip_accents"] as? Bool { options.stripAccents = strip }
                if let cjk = obj["tokenize_chinese_chars"] as? Bool { options.handleChineseChars = cjk }
                for (key, path) in [("unk_token", \Options.unkToken), ("cls_token", \.clsToken),
                                    ("sep_token", \.sepToken), ("pad_token", \.padToken)] {
                    if let s = obj[key] as? String { options[keyPath: path] = s }
                }
            }
            try self.init(vocabFile: vocabTxt, options: options)
        } else {
            throw TeacherError.missingFile("\(directory.path)/tokenizer.json (or vocab.txt)")
        }
    }

    /// A `vocab.txt` file: one token per line, id = line number.
    public init(vocabFile: URL, options: Options = Options()) throws {
        guard let text = try? String(contentsOf: vocabFile, encoding: .utf8) else {
            throw TeacherError.invalidTokenizer("cannot read \(vocabFile.lastPathComponent) as UTF-8")
        }
        var vocab: [String: Int32] = [:]
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if lines.last == "" { lines.removeLast() }
        for (i, line) in lines.enumerated() where vocab[line] == nil { vocab[line] = Int32(i) }
        try self.init(vocabulary: vocab, options: options)
    }

    /// A Hugging Face `tokenizer.json` with a WordPiece model, BertNormalizer (or none),
    /// BertPreTokenizer and a [CLS] $A [SEP] post-processor.
    public init(tokenizerJSON url: URL) throws {
        func bad(_ r: String) -> TeacherError { .invalidTokenizer("\(url.lastPathComponent): \(r)") }
        guard let data = try? Data(contentsOf: url),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw bad("not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else { throw bad("no model") }
        let type = model["type"] as? String ?? (model["continuing_subword_prefix"] != nil ? "WordPiece" : "?")
        guard type == "WordPiece" else { throw bad("model type \(type) is not WordPiece (only WordPiece is supported)") }
        guard let rawVocab = model["vocab"] as? [String: Any] else { throw bad("WordPiece model has no vocab") }
        var vocab: [String: Int32] = [:]
        for (t, v) in rawVocab {
            guard let n = v as? Int, n >= 0, n < Int(Int32.max) else { throw bad("vocab id of \(t) is not a non-negative integer") }
            vocab[t] = Int32(n)
        }
        var options = Options()
        if let unk = model["unk_token"] as? String { options.unkToken = unk }
        if let p = model["continuing_subword_prefix"] as? String { options.continuingSubwordPrefix = p }
        if let m = model["max_input_chars_per_word"] as? Int { options.maxInputCharsPerWord = m }

        switch root["normalizer"] {
        case nil, is NSNull:
            options.cleanText = false; options.handleChineseChars = false
            options.stripAccents = false; options.lowercase = false
        case let n as [String: Any]:
            guard n["type"] as? String == "BertNormalizer" else {
                throw bad("normalizer \(n["type"] ?? "?") is not supported (BertNormalizer only)")
            }
            options.cleanText = n["clean_text"] as? Bool ?? true
            options.handleChineseChars = n["handle_chinese_chars"] as? Bool ?? true
            options.stripAccents = n["strip_accents"] as? Bool
            options.lowercase = n["lowercase"] as? Bool ?? true
        default: throw bad("normalizer is not an object")
        }
        if let pre = root["pre_tokenizer"] as? [String: Any], pre["type"] as? String != "BertPreTokenizer" {
            throw bad("pre_tokenizer \(pre["type"] ?? "?") is not supported (BertPreTokenizer only)")
        }
        if let post = root["post_processor"] as? [String: Any] {
            switch post["type"] as? String {
            case "BertProcessing":
                if let cls = post["cls"] as? [Any], let s = cls.first as? String { options.clsToken = s }
                if let sep = post["sep"] as? [Any], let s = sep.first as? String { options.sepToken = s }
            case "TemplateProcessing":
                // Expect [CLS] $A [SEP]: read the special token names from the single template.
                let single = post["single"] as? [[String: Any]] ?? []
                let specials = single.compactMap { ($0["SpecialToken"] as? [String: Any])?["id"] as? String }
                guard specials.count == 2, single.count == 3,
                      (single[0]["SpecialToken"] != nil), (single[1]["Sequence"] != nil) else {
                    throw bad("post_processor template is not [CLS] $A [SEP]")
                }
                options.clsToken = specials[0]; options.sepToken = specials[1]
            default:
                throw bad("post_processor \(post["type"] ?? "?") is not supported")
            }
        }
        if let padding = root["padding"] as? [String: Any], let p = padding["pad_token"] as? String {
            options.padToken = p
        }
        var added: [String: Int32] = [:]
        for entry in root["added_tokens"] as? [[String: Any]] ?? [] {
            guard let content = entry["content"] as? String, let id = entry["id"] as? Int else { throw bad("bad added_tokens entry") }
            if entry["normalized"] as? Bool == true || entry["single_word"] as? Bool == true
                || entry["lstrip"] as? Bool == true || entry["rstrip"] as? Bool == true {
                throw bad("added token \(content) uses normalized/single_word/lstrip/rstrip matching, which is not supported")
            }
            added[content] = Int32(id)
        }
        try self.init(vocabulary: vocab, options: options, addedTokens: added)
    }
}
