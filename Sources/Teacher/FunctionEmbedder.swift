import Core
import Foundation

/// A function's text as the corpus splits it.
public struct FunctionText: Sendable, Hashable {
    public var signature: String
    public var body: String
    public init(signature: String, body: String) { self.signature = signature; self.body = body }
}

/// (layer, kind) address of one embedding.
public struct EmbeddingKey: Hashable, Sendable {
    public var layer: Int
    public var kind: SpaceKind
    public init(layer: Int, kind: SpaceKind) { self.layer = layer; self.kind = kind }
}

/// The embeddings of one function.
public struct FunctionEmbedding: Sendable {
    /// Mean kinds: `dim` floats. Token kinds: `tokenCounts[kind]! × dim` floats, row-major
    /// (`sigTokens`: the signature's tokens; `bodyTokens`: the body's tokens of the joined pass).
    public var vectors: [EmbeddingKey: [Float]] = [:]
    /// Tokens behind each kind (rows of the token kinds, tokens averaged for the means). A mean over
    /// 0 tokens (empty text, or a body cut off entirely by truncation) is a zero vector, a token
    /// matrix of 0 tokens is empty. `tokenCounts[.bodyTokens] == tokenCounts[.bodyMean]`.
    public var tokenCounts: [SpaceKind: Int] = [:]
    /// True when the kind's forward pass was truncated at the model limit.
    public var truncated: [SpaceKind: Bool] = [:]

    public func vector(layer: Int, kind: SpaceKind) -> [Float]? { vectors[EmbeddingKey(layer: layer, kind: kind)] }
}

/// Turns functions (and plain texts) into teacher embeddings, batching many forward passes.
///
/// ```swift
/// let embedder = FunctionEmbedder(model: try BertModel.load(directory: dir))
/// let out = try embedder.embed(functions: [FunctionText(signature: "def f(x):", body: "    return x")],
///                              layers: [3], kinds: Set(SpaceKind.teacherKinds))
/// let target = out[0].vector(layer: 3, kind: .bodyMean)!      // 384 floats
/// let vectors = try embedder.embed(texts: ["This is an example sentence"], layer: 6)  // ST-style
/// ```
///
/// Any `TeacherModel` works: a causal decoder (`DecoderModel`) gives the same kinds with the same
/// meaning from fewer passes (see `embed(functions:layers:kinds:batchSize:progress:)`).
public struct FunctionEmbedder: Sendable {
    public let model: any TeacherModel
    /// Longest pass in tokens incl. special tokens (default: the model's limit, 512 for BERT).
    public var maxTokens: Int
    /// Upper bound of tokens per forward pass (scratch memory ≈ tokens × (6·D + FFN) × 4 bytes,
    /// ~110 MB at 8,192 tokens for MiniLM).
    public var maxTokensPerForward = 8_192

    /// `cls`: the first token's state; `last`: the last token's (a decoder's summary of the whole text).
    public enum Pooling: Sendable { case mean, cls, last }

    public init(model: any TeacherModel, maxTokens: Int? = nil) {
        self.model = model
        self.maxTokens = min(maxTokens ?? model.maxTokens, model.maxTokens)
    }

    /// One forward pass to run: tokens, and which rows to average.
    struct Pass {
        var function: Int
        var kind: Pass.Kind
        var encoding: Encoding
        var rows: Range<Int>
        /// A causal joined pass that also gives the signature kinds: the signature's rows.
        var signatureRows: Range<Int>? = nil
        enum Kind { case signature, joined, bodyOnly }
    }

    /// The text of a `body_mean` pass: the signature, a newline, then the body. The body's tokens are
    /// those starting at or after the body's first character (the newline never joins two tokens, and
    /// BERT treats any whitespace alike, so one-line functions tokenize as in the source).
    public static func joinedText(_ f: FunctionText) -> (text: String, bodyStart: Int) {
        (f.signature + "\n" + f.body, f.signature.unicodeScalars.count + 1)
    }

    /// Embeds functions for `layers` and `kinds`. Passes are sorted by length and packed into
    /// forward batches of at most `batchSize` sequences. `progress(done, total)` counts passes.
    /// `kinds` are among `SpaceKind.teacherKinds`: `sigTokens` (per-token states of a pass over the
    /// signature alone, [CLS]/[SEP] excluded), `sigMean` (their mean), `bodyMean` (pass over
    /// `signature + "\n" + body`, mean over the body's tokens only), `bodyTokens` (the states of those
    /// body tokens: one joined pass serves both) and `bodyOnlyMean` (pass over the body alone). Other
    /// kinds are not teacher outputs and are ignored.
    ///
    /// A causal model (`attention == .causal`) runs the joined pass over the signature's own tokens
    /// followed by the tokens of `"\n" + body` (`causalJoined`): its first positions are exactly a pass
    /// over the signature alone (they never see what follows), so with `bodyMean` (or `bodyTokens`) requested the
    /// signature kinds come from those rows of the same pass, and one pass fewer runs. Special tokens
    /// are those the model's tokenizer adds (a decoder's BOS only when its config says so), never rows
    /// of any kind.
    public func embed(functions: [FunctionText], layers: [Int], kinds: Set<SpaceKind>, batchSize: Int = 64,
                      progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [FunctionEmbedding] {
        guard batchSize > 0 else { throw TeacherError.invalidArgument("batchSize must be positive") }
        guard !layers.isEmpty else { throw TeacherError.invalidArgument("no layers requested") }
        for l in layers where l < 0 || l > model.layerCount {
            throw TeacherError.invalidArgument("layer \(l) is outside 0…\(model.layerCount)")
        }
        let tok = try tokenizer()
        let limit = maxTokens
        let wantSig = kinds.contains(.sigTokens) || kinds.contains(.sigMean)
        let wantJoined = kinds.contains(.bodyMean) || kinds.contains(.bodyTokens)
        let wantBody = kinds.contains(.bodyOnlyMean)
        let causal = model.attention == .causal
        // A causal joined pass also serves the signature kinds.
        let sigFromJoined = causal && wantJoined
        // Tokenise (in parallel: the tokenizer is a value type).
        var perFunction = [[Pass]](repeating: [], count: functions.count)
        perFunction.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            Kernels.parallelRows(functions.count, minRowsPerChunk: 8) { range in
                for i in range {
                    let f = functions[i]
                    var passes: [Pass] = []
                    if wantSig && !sigFromJoined {
                        let e = tok.encode(f.signature, maxLength: limit)
                        passes.append(Pass(function: i, kind: .signature, encoding: e, rows: Self.textRows(e)))
                    }
                    if wantJoined && causal {
                        let (e, sigRows, bodyRows) = Self.causalJoined(f, tokenizer: tok, maxLength: limit)
                        passes.append(Pass(function: i, kind: .joined, encoding: e, rows: bodyRows,
                                           signatureRows: wantSig ? sigRows : nil))
                    } else if wantJoined {
                        let (text, bodyStart) = Self.joinedText(f)
                        let e = tok.encode(text, maxLength: limit)
                        var lo = e.count - 1
                        for t in 0..<e.count where !e.isSpecial[t] && e.offsets[t].start >= bodyStart { lo = t; break }
                        passes.append(Pass(function: i, kind: .joined, encoding: e, rows: lo..<max(lo, e.count - 1)))
                    }
                    if wantBody {
                        let e = tok.encode(f.body, maxLength: limit)
                        passes.append(Pass(function: i, kind: .bodyOnly, encoding: e, rows: Self.textRows(e)))
                    }
                    (outBase + i).pointee = passes
                }
            }
        }
        var passes = perFunction.flatMap { $0 }
        passes.sort { $0.encoding.count < $1.encoding.count }

        var results = [FunctionEmbedding](repeating: FunctionEmbedding(), count: functions.count)
        let d = model.hiddenSize
        /// Stores the kinds of one pass, its states (T × D per layer) given by `states(layer)`.
        func record(_ pass: Pass, _ states: (Int) -> ArraySlice<Float>) {
            var r = results[pass.function]
            let rows = pass.rows
            let sigRows = pass.kind == .signature ? rows : pass.signatureRows
            for layer in layers {
                let seq = states(layer)
                let base = seq.startIndex
                if let sigRows {
                    if kinds.contains(.sigTokens) {
                        r.vectors[EmbeddingKey(layer: layer, kind: .sigTokens)] =
                            Array(seq[(base + sigRows.lowerBound * d)..<(base + sigRows.upperBound * d)])
                    }
                    if kinds.contains(.sigMean) {
                        r.vectors[EmbeddingKey(layer: layer, kind: .sigMean)] = Self.meanRows(seq, rows: sigRows, dim: d)
                    }
                }
                switch pass.kind {
                case .signature: break
                case .joined:
                    if kinds.contains(.bodyMean) {
                        r.vectors[EmbeddingKey(layer: layer, kind: .bodyMean)] = Self.meanRows(seq, rows: rows, dim: d)
                    }
                    if kinds.contains(.bodyTokens) {
                        r.vectors[EmbeddingKey(layer: layer, kind: .bodyTokens)] =
                            Array(seq[(base + rows.lowerBound * d)..<(base + rows.upperBound * d)])
                    }
                case .bodyOnly: r.vectors[EmbeddingKey(layer: layer, kind: .bodyOnlyMean)] = Self.meanRows(seq, rows: rows, dim: d)
                }
            }
            var passKinds: [(SpaceKind, Int)] = []
            if let sigRows { passKinds += [SpaceKind.sigTokens, .sigMean].filter(kinds.contains).map { ($0, sigRows.count) } }
            switch pass.kind {
            case .signature: break
            case .joined: passKinds += [SpaceKind.bodyMean, .bodyTokens].filter(kinds.contains).map { ($0, rows.count) }
            case .bodyOnly: passKinds.append((.bodyOnlyMean, rows.count))
            }
            for (k, count) in passKinds {
                r.tokenCounts[k] = count
                r.truncated[k] = pass.encoding.isTruncated
            }
            results[pass.function] = r
        }
        // A pass with no tokens at all (an empty text and no special tokens: decoders) runs no forward:
        // its kinds are zero vectors, as a mean over 0 tokens is.
        let empty = passes.prefix { $0.encoding.count == 0 }.count
        for pass in passes[..<empty] { record(pass) { _ in [] } }
        for range in batches(passes[empty...].map(\.encoding.count), batchSize: batchSize) {
            let (start, end) = (empty + range.lowerBound, empty + range.upperBound)
            let states = try model.hiddenStates(batch: passes[start..<end].map(\.encoding.ids), layers: layers)
            for (b, pass) in passes[start..<end].enumerated() {
                record(pass) { states.sequence(b, layer: $0) }
            }
            progress?(end, passes.count)
        }
        return results
    }

    /// Consecutive ranges of at most `batchSize` sequences and `maxTokensPerForward` tokens
    /// (a single longer sequence still gets its own batch).
    func batches(_ lengths: [Int], batchSize: Int) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        while start < lengths.count {
            var end = start, tokens = 0
            while end < lengths.count && end - start < batchSize
                    && (end == start || tokens + lengths[end] <= maxTokensPerForward) {
                tokens += lengths[end]; end += 1
            }
            out.append(start..<end)
            start = end
        }
        return out
    }

    /// The model's tokenizer (a model without one cannot embed text: `invalidTokenizer`).
    func tokenizer() throws -> any Tokenizer {
        guard let tok = model.textTokenizer else {
            throw TeacherError.invalidTokenizer("model \(model.name) has no tokenizer")
        }
        return tok
    }

    /// The joined pass of a causal model: the signature's tokens as a pass over the signature alone
    /// gives them (with the tokenizer's special tokens), then the tokens of `"\n" + body` (none added),
    /// cut at `maxLength`. `signature`: the signature's text rows; `body`: the rows of tokens starting
    /// at or after the body's first character (the newline's own token is neither).
    ///
    /// ```swift
    /// let (e, sig, body) = FunctionEmbedder.causalJoined(FunctionText(signature: "def f():", body: "    pass"),
    ///                                                   tokenizer: tok, maxLength: 8192)
    /// // e.ids[sig] == tok.encode("def f():").ids[sig]
    /// ```
    public static func causalJoined(_ f: FunctionText, tokenizer tok: any Tokenizer, maxLength: Int)
        -> (encoding: Encoding, signature: Range<Int>, body: Range<Int>) {
        var e = tok.encode(f.signature, maxLength: maxLength)
        let signature = textRows(e)
        let rest = tok.encode("\n" + f.body, maxLength: nil, addSpecialTokens: false)
        let room = max(0, maxLength - e.count)
        let kept = min(room, rest.count)
        let shift = f.signature.unicodeScalars.count
        e.ids += rest.ids.prefix(kept)
        e.tokens += rest.tokens.prefix(kept)
        e.offsets += rest.offsets.prefix(kept).map { TokenOffset(start: $0.start + shift, end: $0.end + shift) }
        e.isSpecial += rest.isSpecial.prefix(kept)
        e.untruncatedCount += rest.count
        e.isTruncated = e.isTruncated || kept < rest.count
        var lo = e.count
        for t in signature.upperBound..<e.count where !e.isSpecial[t] && e.offsets[t].start >= shift + 1 { lo = t; break }
        var hi = e.count
        while hi > lo && e.isSpecial[hi - 1] { hi -= 1 }
        return (e, signature, lo..<hi)
    }

    /// Rows of the real text tokens of an encoding (without [CLS] and [SEP]).
    static func textRows(_ e: Encoding) -> Range<Int> {
        var lo = 0, hi = e.count
        while lo < hi && e.isSpecial[lo] { lo += 1 }
        while hi > lo && e.isSpecial[hi - 1] { hi -= 1 }
        return lo..<hi
    }

    /// Mean of `rows` of a T × dim slice (zeros when `rows` is empty).
    static func meanRows(_ seq: ArraySlice<Float>, rows: Range<Int>, dim d: Int) -> [Float] {
        var mean = [Float](repeating: 0, count: d)
        guard !rows.isEmpty else { return mean }
        seq.withUnsafeBufferPointer { s in
            mean.withUnsafeMutableBufferPointer { m in
                for r in rows { for j in 0..<d { m[j] += s[r * d + j] } }
                let inv = 1 / Float(rows.count)
                for j in 0..<d { m[j] *= inv }
            }
        }
        return mean
    }

    /// Sentence-transformers style embeddings of plain texts: mean over all tokens incl. [CLS]/[SEP]
    /// (or the [CLS] state), then L2-normalised if asked. Truncates at `maxTokens` (the model limit,
    /// 512; sentence-transformers cuts all-MiniLM-L6-v2 at 256 — use `FunctionEmbedder(model:maxTokens: 256)`
    /// to reproduce it on longer texts).
    public func embed(texts: [String], layer: Int, pooling: Pooling = .mean, normalize: Bool = true,
                      batchSize: Int = 64) throws -> [[Float]] {
        guard layer >= 0 && layer <= model.layerCount else {
            throw TeacherError.invalidArgument("layer \(layer) is outside 0…\(model.layerCount)")
        }
        guard batchSize > 0 else { throw TeacherError.invalidArgument("batchSize must be positive") }
        let tok = try tokenizer()
        let encodings = texts.map { tok.encode($0, maxLength: maxTokens) }
        let d = model.hiddenSize
        // Texts with no tokens (an empty text and no special tokens: decoders) are zero vectors.
        let nonEmpty = encodings.indices.filter { encodings[$0].count > 0 }
        var vectors = [[Float]](repeating: [Float](repeating: 0, count: d), count: texts.count)
        for range in batches(nonEmpty.map { encodings[$0].count }, batchSize: batchSize) {
            let (start, end) = (range.lowerBound, range.upperBound)
            let states = try model.hiddenStates(batch: nonEmpty[start..<end].map { encodings[$0].ids }, layers: [layer])
            for b in 0..<(end - start) {
                let seq = states.sequence(b, layer: layer)
                var v: [Float]
                switch pooling {
                case .mean: v = Self.meanRows(seq, rows: 0..<states.lengths[b], dim: d)
                case .cls: v = Array(seq.prefix(d))
                case .last: v = Array(seq.suffix(d))
                }
                if normalize {
                    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    if norm > 0 { for j in 0..<d { v[j] /= norm } }
                }
                vectors[nonEmpty[start + b]] = v
            }
        }
        return vectors
    }
}
