import Foundation

/// A byte-level BPE tokenizer (GPT-2 style) built from a GGUF file's `tokenizer.ggml.*` metadata:
/// `model` gpt2, `tokens`, `merges` ("left right", by rank), `token_type` (3 = control and 4 = user
/// defined are matched verbatim in the text first, longest first), `pre` (see `BPEPreTokenizer`),
/// and BOS only when `add_bos_token` says so (never EOS). Offsets are Unicode scalar indexes into
/// the text; a token holding part of a multi-byte character spans the whole character.
///
/// ```swift
/// let tok = try ByteLevelBPETokenizer(gguf: GGUFFile(path: path))
/// let enc = tok.encode("def add(a, b):")
/// enc.ids                  // SmolLM2: [1604, 803, 24, 81, 28, 278, 727]
/// enc.offsets.first        // (0, 3): "def"
/// tok.decode(enc.ids)      // "def add(a, b):"
/// ```
public final class ByteLevelBPETokenizer: Tokenizer {
    public let tokens: [String]
    public let preTokenizer: BPEPreTokenizer
    public let bosID: Int32?
    public let eosID: Int32?
    public let addBOS: Bool
    public let padID: Int32
    /// A pre-tokenized piece that is itself a vocabulary token is that token, merges or not
    /// (`ignore_merges` of Llama 3's `tokenizer.json`).
    public let ignoreMerges: Bool
    public var vocabularySize: Int { tokens.count }
    private let ids: [String: Int32]
    /// (left id << 32 | right id) → (rank, merged id).
    private let merges: [UInt64: (rank: Int32, id: Int32)]
    /// Verbatim tokens (control, user-defined) by first scalar, longest first.
    private let specials: [Unicode.Scalar: [(scalars: [Unicode.Scalar], id: Int32)]]
    /// Each byte's token (GPT-2's byte → printable character map); nil when the vocabulary lacks it:
    /// such bytes are dropped, as Hugging Face's BPE without an unknown token does.
    private let byteIDs: [Int32?]

    public convenience init(gguf file: GGUFFile) throws {
        let model = try file.requireString("tokenizer.ggml.model")
        guard model == "gpt2" else { throw TeacherError.invalidTokenizer("tokenizer.ggml.model \(model) is not byte-level BPE (gpt2)") }
        let preName = file.metadata["tokenizer.ggml.pre"]?.string ?? "default"
        guard let pre = BPEPreTokenizer(ggmlName: preName) else {
            throw TeacherError.invalidTokenizer("pre-tokenizer \(preName) is not implemented (gpt2, smollm, qwen2, llama-bpe are)")
        }
        let types = file.metadata["tokenizer.ggml.token_type"]?.ints
        try self.init(tokens: file.requireStrings("tokenizer.ggml.tokens"),
                      merges: file.requireStrings("tokenizer.ggml.merges"),
                      tokenTypes: types, preTokenizer: pre,
                      bosID: file.metadata["tokenizer.ggml.bos_token_id"]?.int,
                      eosID: file.metadata["tokenizer.ggml.eos_token_id"]?.int,
                      padID: file.metadata["tokenizer.ggml.padding_token_id"]?.int,
                      addBOS: file.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false)
    }

    public init(tokens: [String], merges mergeList: [String], tokenTypes: [Int]?, preTokenizer: BPEPreTokenizer,
                bosID: Int?, eosID: Int?, padID: Int?, addBOS: Bool, ignoreMerges: Bool = false) throws {
        guard !tokens.isEmpty, tokens.count < Int(Int32.max) else { throw TeacherError.invalidTokenizer("empty vocabulary") }
        if let t = tokenTypes, t.count != tokens.count {
            throw TeacherError.invalidTokenizer("\(t.count) token types for \(tokens.count) tokens")
        }
        func checkedID(_ i: Int?, _ what: String) throws -> Int32? {
            guard let i else { return nil }
            guard i >= 0, i < tokens.count else { throw TeacherError.invalidTokenizer("\(what) \(i) outside the vocabulary") }
            return Int32(i)
        }
        self.tokens = tokens
        self.preTokenizer = preTokenizer
        self.bosID = try checkedID(bosID, "bos_token_id")
        self.eosID = try checkedID(eosID, "eos_token_id")
        self.padID = try checkedID(padID, "padding_token_id") ?? self.eosID ?? 0
        self.addBOS = addBOS
        self.ignoreMerges = ignoreMerges
        if addBOS, self.bosID == nil { throw TeacherError.invalidTokenizer("add_bos_token without bos_token_id") }
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = Int32(i) }
        self.ids = ids
        var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
        merges.reserveCapacity(mergeList.count)
        for (rank, m) in mergeList.enumerated() {
            let parts = m.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let l = ids[String(parts[0])], let r = ids[String(parts[1])],
                  let merged = ids[String(parts[0]) + String(parts[1])] else {
                throw TeacherError.invalidTokenizer("merge \(rank) \"\(m)\" is not two vocabulary tokens forming a third")
            }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if merges[key] == nil { merges[key] = (Int32(rank), merged) }
        }
        self.merges = merges
        var specials: [Unicode.Scalar: [(scalars: [Unicode.Scalar], id: Int32)]] = [:]
        for (i, type) in (tokenTypes ?? []).enumerated() where type == 3 || type == 4 {
            let scalars = Array(tokens[i].unicodeScalars)
            guard let first = scalars.first else { continue }
            specials[first, default: []].append((scalars, Int32(i)))
        }
        self.specials = specials.mapValues { $0.sorted { $0.scalars.count > $1.scalars.count } }
        byteIDs = Self.byteToUnicode.map { ids[String(Character($0))] }
    }

    /// GPT-2's `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the other 68 to U+0100….
    static let byteToUnicode: [Unicode.Scalar] = {
        var out = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt16 = 256
        for b in 0..<256 {
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                out[b] = Unicode.Scalar(UInt8(b))
            } else {
                out[b] = Unicode.Scalar(next) ?? "\0"  // 256…323: always valid
                next += 1
            }
        }
        return out
    }()

    public func encode(_ text: String, maxLength: Int? = nil, addSpecialTokens: Bool = true) -> Encoding {
        let s = Array(text.unicodeScalars)
        var ids: [Int32] = [], offsets: [TokenOffset] = [], special: [Bool] = []
        if addSpecialTokens, addBOS, let bos = bosID { ids.append(bos); offsets.append(TokenOffset(start: 0, end: 0)); special.append(true) }
        var start = 0, i = 0
        func flush(_ end: Int) {
            guard start < end else { return }
            for piece in preTokenizer.split(s, in: start..<end) { bpe(s, piece, &ids, &offsets, &special) }
        }
        while i < s.count {
            if let candidates = specials[s[i]],
               let hit = candidates.first(where: { i + $0.scalars.count <= s.count && s[i..<(i + $0.scalars.count)].elementsEqual($0.scalars) }) {
                flush(i)
                ids.append(hit.id); offsets.append(TokenOffset(start: i, end: i + hit.scalars.count)); special.append(true)
                i += hit.scalars.count
                start = i
            } else {
                i += 1
            }
        }
        flush(s.count)
        let total = ids.count
        if let maxLength, ids.count > maxLength {
            ids.removeLast(ids.count - maxLength); offsets.removeLast(offsets.count - maxLength); special.removeLast(special.count - maxLength)
        }
        return Encoding(ids: ids, tokens: ids.map { tokens[Int($0)] }, offsets: offsets, isSpecial: special,
                        isTruncated: total > ids.count, untruncatedCount: total)
    }

    /// BPE over the bytes of one pre-tokenized piece: start from one symbol per byte, merge the
    /// lowest-ranked adjacent pair (leftmost on ties) until none is in the merge table. A heap of
    /// candidate pairs over a linked list of symbols keeps it O(n log n): a hostile 1 MB "word" must
    /// not take the quadratic time of rescanning all pairs after every merge.
    private func bpe(_ s: [Unicode.Scalar], _ piece: Range<Int>, _ ids: inout [Int32], _ offsets: inout [TokenOffset], _ special: inout [Bool]) {
        if ignoreMerges, !piece.isEmpty {
            var word = String.UnicodeScalarView()
            for k in piece { for b in String(s[k]).utf8 { word.append(Self.byteToUnicode[Int(b)]) } }
            if let id = self.ids[String(word)] {
                ids.append(id); offsets.append(TokenOffset(start: piece.lowerBound, end: piece.upperBound)); special.append(false)
                return
            }
        }
        var symbol: [Int32] = [], start: [Int] = [], end: [Int] = []
        for k in piece {
            for b in String(s[k]).utf8 {
                guard let id = byteIDs[Int(b)] else { continue }
                symbol.append(id); start.append(k); end.append(k + 1)
            }
        }
        let n = symbol.count
        var next = Array(1...max(1, n)), prev = Array(-1..<max(0, n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = PairHeap()
        func candidate(_ left: Int) {
            let right = next[left]
            guard right < n, let m = merges[UInt64(UInt32(symbol[left])) << 32 | UInt64(UInt32(symbol[right]))] else { return }
            heap.push(.init(rank: m.rank, left: Int32(left), right: Int32(right), id: m.id))
        }
        for i in 0..<max(0, n - 1) { candidate(i) }
        while let top = heap.pop() {
            let left = Int(top.left), right = Int(top.right)
            // Stale when either side was merged away or changed since the pair was pushed.
            guard alive[left], alive[right], next[left] == right,
                  merges[UInt64(UInt32(symbol[left])) << 32 | UInt64(UInt32(symbol[right]))]?.rank == top.rank else { continue }
            symbol[left] = top.id
            end[left] = end[right]
            alive[right] = false
            next[left] = next[right]
            if next[right] < n { prev[next[right]] = left }
            if prev[left] >= 0 { candidate(prev[left]) }
            candidate(left)
        }
        var i = 0
        while i < n {
            ids.append(symbol[i]); offsets.append(TokenOffset(start: start[i], end: end[i])); special.append(false)
            i = next[i]
        }
    }

    /// The text of ids (byte-level symbols back to bytes; invalid UTF-8 repaired).
    public func decode(_ ids: [Int32]) -> String {
        var reverse: [Unicode.Scalar: UInt8] = [:]
        for (b, u) in Self.byteToUnicode.enumerated() { reverse[u] = UInt8(b) }
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < tokens.count {
            for u in tokens[Int(id)].unicodeScalars {
                if let b = reverse[u] { bytes.append(b) } else { bytes.append(contentsOf: String(u).utf8) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A binary min-heap of merge candidates ordered by (rank, left position).
struct PairHeap {
    struct Pair { var rank: Int32, left: Int32, right: Int32, id: Int32 }
    private var items: [Pair] = []

    @inline(__always) private static func less(_ a: Pair, _ b: Pair) -> Bool { a.rank != b.rank ? a.rank < b.rank : a.left < b.left }

    mutating func push(_ p: Pair) {
        items.append(p)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Pair? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, Self.less(items[l], items[m]) { m = l }
            if r < items.count, Self.less(items[r], items[m]) { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}
