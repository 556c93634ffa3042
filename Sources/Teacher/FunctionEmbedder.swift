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
    /// Mean kinds: `dim` floats. `sigTokens`: `rows[.sigTokens]! × dim` floats, row-major.
    public var vectors: [EmbeddingKey: [Float]] = [:]
    /// Tokens behind each kind (rows of `sigTokens`, tokens averaged for the means). A mean over
    /// 0 tokens (empty text, or a body cut off entirely by truncation) is a zero vector.
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
public struct FunctionEmbedder: Sendable {
    public let model: BertModel
    /// Longest pass in tokens incl. [CLS]/[SEP] (default: the model's limit, 512 for BERT).
    public var maxTokens: Int
    /// Upper bound of tokens per forward pass (scratch memory ≈ tokens × (6·D + FFN) × 4 bytes,
    /// ~110 MB at 8,192 tokens for MiniLM).
    public var maxTokensPerForward = 8_192

    public enum Pooling: Sendable { case mean, cls }

    public init(model: BertModel, maxTokens: Int? = nil) {
        self.model = model
        self.maxTokens = min(maxTokens ?? model.maxTokens, model.maxTokens)
    }

    /// One forward pass to run: tokens, and which rows to average.
    struct Pass {
        var function: Int
        var kind: Pass.Kind
        var encoding: Encoding
        var rows: Range<Int>
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
    /// `signature + "\n" + body`, mean over the body's tokens only) and `bodyOnlyMean` (pass over the
    /// body alone). Other kinds are not teacher outputs and are ignored.
    public func embed(functions: [FunctionText], layers: [Int], kinds: Set<SpaceKind>, batchSize: Int = 64,
                      progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [FunctionEmbedding] {
        guard batchSize > 0 else { throw TeacherError.invalidArgument("batchSize must be positive") }
        guard !layers.isEmpty else { throw TeacherError.invalidArgument("no layers requested") }
        for l in layers where l < 0 || l > model.layerCount {
            throw TeacherError.invalidArgument("layer \(l) is outside 0…\(model.layerCount)")
        }
        let tok = model.tokenizer
        let limit = maxTokens
        let wantSig = kinds.contains(.sigTokens) || kinds.contains(.sigMean)
        let wantJoined = kinds.contains(.bodyMean), wantBody = kinds.contains(.bodyOnlyMean)
        // Tokenise (in parallel: the tokenizer is a value type).
        var perFunction = [[Pass]](repeating: [], count: functions.count)
        perFunction.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            Kernels.parallelRows(functions.count, minRowsPerChunk: 8) { range in
                for i in range {
                    let f = functions[i]
                    var passes: [Pass] = []
                    if wantSig {
                        let e = tok.encode(f.signature, maxLength: limit)
                        passes.append(Pass(function: i, kind: .signature, encoding: e, rows: Self.textRows(e)))
                    }
                    if wantJoined {
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
        for range in batches(passes.map(\.encoding.count), batchSize: batchSize) {
            let (start, end) = (range.lowerBound, range.upperBound)
            let states = try model.hiddenStates(batch: passes[start..<end].map(\.encoding.ids), layers: layers)
            for (b, pass) in passes[start..<end].enumerated() {
                var r = results[pass.function]
                let rows = pass.rows
                for layer in layers {
                    let seq = states.sequence(b, layer: layer)
                    let base = seq.startIndex
                    let mean = Self.meanRows(seq, rows: rows, dim: d)
                    switch pass.kind {
                    case .signature:
                        if kinds.contains(.sigTokens) {
                            r.vectors[EmbeddingKey(layer: layer, kind: .sigTokens)] =
                                Array(seq[(base + rows.lowerBound * d)..<(base + rows.upperBound * d)])
                        }
                        if kinds.contains(.sigMean) { r.vectors[EmbeddingKey(layer: layer, kind: .sigMean)] = mean }
                    case .joined: r.vectors[EmbeddingKey(layer: layer, kind: .bodyMean)] = mean
                    case .bodyOnly: r.vectors[EmbeddingKey(layer: layer, kind: .bodyOnlyMean)] = mean
                    }
                }
                let passKinds: [SpaceKind]
                switch pass.kind {
                case .signature: passKinds = [.sigTokens, .sigMean].filter(kinds.contains)
                case .joined: passKinds = [.bodyMean]
                case .bodyOnly: passKinds = [.bodyOnlyMean]
                }
                for k in passKinds {
                    r.tokenCounts[k] = rows.count
                    r.truncated[k] = pass.encoding.isTruncated
                }
                results[pass.function] = r
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
        let encodings = texts.map { model.tokenizer.encode($0, maxLength: maxTokens) }
        let d = model.hiddenSize
        var out: [[Float]] = []
        out.reserveCapacity(texts.count)
        for range in batches(encodings.map(\.count), batchSize: batchSize) {
            let (start, end) = (range.lowerBound, range.upperBound)
            let states = try model.hiddenStates(batch: encodings[start..<end].map(\.ids), layers: [layer])
            for b in 0..<(end - start) {
                let seq = states.sequence(b, layer: layer)
                var v = pooling == .mean ? Self.meanRows(seq, rows: 0..<states.lengths[b], dim: d) : Array(seq.prefix(d))
                if normalize {
                    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    if norm > 0 { for j in 0..<d { v[j] /= norm } }
                }
                out.append(v)
            }
        }
        return out
    }
}
