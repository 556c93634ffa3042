import Tensor
import Dispatch
import Foundation

/// Hidden states of a batch, stored packed: the rows of sequence `b` are
/// `offsets[b] ..< offsets[b] + lengths[b]` of each layer's (Σ lengths) × `dim` matrix. No padding rows.
public struct BertHiddenStates: Sendable {
    public let lengths: [Int]
    public let offsets: [Int]
    public let dim: Int
    /// Packed states per requested layer (HF numbering: 0 = embeddings output, L = last layer).
    public let layers: [Int: [Float]]

    /// The T × dim states of sequence `b` at `layer` (row-major).
    public func sequence(_ b: Int, layer: Int) -> ArraySlice<Float> {
        let all = layers[layer]!
        return all[(offsets[b] * dim)..<((offsets[b] + lengths[b]) * dim)]
    }

    /// B × T × dim with T = the longest sequence; padding rows are zero.
    public func padded(layer: Int) -> (values: [Float], maxLength: Int) {
        let t = lengths.max() ?? 0
        var out = [Float](repeating: 0, count: lengths.count * t * dim)
        let all = layers[layer]!
        for b in lengths.indices {
            let n = lengths[b] * dim
            out.replaceSubrange((b * t * dim)..<(b * t * dim + n), with: all[(offsets[b] * dim)..<(offsets[b] * dim + n)])
        }
        return (out, t)
    }
}

extension BertHiddenStates {
    /// Checks a batch and its requested layers and lays the sequences out back to back: each
    /// sequence's first row and length in the packed (Σ lengths) × dim matrices both model families use.
    ///
    ///     let p = try BertHiddenStates.packing([[101, 102], [101, 7, 102]], layers: [6], layerCount: 6,
    ///                                          maxTokens: 512, vocabSize: 30_522)   // offsets [0, 2], rows 5
    static func packing(_ batch: [[Int32]], layers wanted: [Int], layerCount: Int, maxTokens: Int,
                        vocabSize: Int) throws -> (offsets: [Int], lengths: [Int], rows: Int) {
        guard !batch.isEmpty else { throw TeacherError.invalidArgument("empty batch") }
        for l in wanted where l < 0 || l > layerCount {
            throw TeacherError.invalidArgument("layer \(l) is outside 0…\(layerCount)")
        }
        var offsets: [Int] = [], lengths: [Int] = []
        var n = 0
        for (b, seq) in batch.enumerated() {
            guard !seq.isEmpty else { throw TeacherError.invalidArgument("sequence \(b) is empty") }
            guard seq.count <= maxTokens else {
                throw TeacherError.invalidArgument("sequence \(b) has \(seq.count) tokens; the model takes at most \(maxTokens)")
            }
            if let bad = seq.first(where: { $0 < 0 || Int($0) >= vocabSize }) {
                throw TeacherError.invalidArgument("token id \(bad) in sequence \(b) is outside the vocabulary (\(vocabSize))")
            }
            offsets.append(n); lengths.append(seq.count); n += seq.count
        }
        return (offsets, lengths, n)
    }
}

extension BertModel {
    /// Runs the encoder over a batch of token-id sequences (each with its own [CLS]/[SEP]) and returns
    /// the hidden states of `layers` (0 = embeddings output … `layerCount` = last).
    ///
    /// Sequences are packed without padding: the dense layers run as one GEMM over all tokens of the
    /// batch, attention runs per sequence and head (equivalent to padding with an attention mask).
    /// Token type ids are 0. Blocks the calling thread (uses all cores through OpenBLAS and Dispatch).
    ///
    /// ```swift
    /// let s = try model.hiddenStates(batch: [[101, 7592, 102], [101, 102]], layers: [6])
    /// ```
    public func hiddenStates(batch: [[Int32]], layers wanted: [Int]) throws -> BertHiddenStates {
        let d = config.hiddenSize, ffn = config.intermediateSize, heads = config.numAttentionHeads, dh = config.headDim
        let eps = config.layerNormEps
        let (offsets, lengths, n) = try BertHiddenStates.packing(batch, layers: wanted, layerCount: config.numHiddenLayers,
                                                                 maxTokens: config.maxPositionEmbeddings, vocabSize: config.vocabSize)
        let wantedSet = Set(wanted)
        let deepest = wanted.max() ?? 0

        let x = FloatBuffer(count: n * d)
        let qkv = FloatBuffer(count: n * 3 * d)
        let ctx = FloatBuffer(count: n * d)
        let tmp = FloatBuffer(count: n * d)
        let hid = FloatBuffer(count: n * ffn)
        var results: [Int: [Float]] = [:]

        // Embeddings: word + position + token type 0, then LayerNorm.
        var rowIDs = [Int32](repeating: 0, count: n), rowPos = [Int32](repeating: 0, count: n)
        for (b, seq) in batch.enumerated() {
            for (t, id) in seq.enumerated() { rowIDs[offsets[b] + t] = id; rowPos[offsets[b] + t] = Int32(t) }
        }
        rowIDs.withUnsafeBufferPointer { ids in
            rowPos.withUnsafeBufferPointer { pos in
                let xp = x.pointer, we = wordEmbeddings.pointer, pe = positionEmbeddings.pointer
                let te = tokenTypeEmbeddings.pointer, g = embLNg.pointer, bb = embLNb.pointer
                Kernels.parallelRows(n) { range in
                    for r in range {
                        let xr = xp + r * d, w = we + Int(ids[r]) * d, p = pe + Int(pos[r]) * d
                        for j in 0..<d { xr[j] = w[j] + p[j] + te[j] }
                        Kernels.layerNormRow(xr, g, bb, d: d, eps: eps)
                    }
                }
            }
        }
        if wantedSet.contains(0) { results[0] = x.toArray() }

        let scale = 1 / Float(dh).squareRoot()
        for l in 0..<min(deepest, layers.count) {
            let w = layers[l]
            // Q, K, V for all tokens in one GEMM: qkv[n × 3D] = bias + x · Wqkvᵀ.
            let bq = w.bqkv.pointer, qp = qkv.pointer
            Kernels.parallelRows(n, minRowsPerChunk: 64) { range in
                for r in range { (qp + r * 3 * d).update(from: bq, count: 3 * d) }
            }
            Float.gemm(transA: false, transB: true, m: n, n: 3 * d, k: d, alpha: 1, a: x.pointer, lda: d, b: w.wqkv.pointer, ldb: d,
                       beta: 1, c: qkv.pointer, ldc: 3 * d)
            // Attention per (sequence, head).
            attention(qkv: qkv.pointer, ctx: ctx.pointer, offsets: offsets, lengths: lengths,
                      d: d, heads: heads, dh: dh, scale: scale)
            // Output projection, residual, LayerNorm.
            Float.gemm(transA: false, transB: true, m: n, n: d, k: d, alpha: 1, a: ctx.pointer, lda: d, b: w.wo.pointer, ldb: d,
                       beta: 0, c: tmp.pointer, ldc: d)
            Kernels.addBiasResidualLayerNorm(x: x.pointer, y: tmp.pointer, bias: w.bo.pointer,
                                             g: w.ln1g.pointer, b: w.ln1b.pointer, rows: n, d: d, eps: eps)
            // Feed-forward.
            Float.gemm(transA: false, transB: true, m: n, n: ffn, k: d, alpha: 1, a: x.pointer, lda: d, b: w.w1.pointer, ldb: d,
                       beta: 0, c: hid.pointer, ldc: ffn)
            Kernels.addBiasActivation(hid.pointer, bias: w.b1.pointer, rows: n, n: ffn, activation: config.hiddenAct)
            Float.gemm(transA: false, transB: true, m: n, n: d, k: ffn, alpha: 1, a: hid.pointer, lda: ffn, b: w.w2.pointer, ldb: ffn,
                       beta: 0, c: tmp.pointer, ldc: d)
            Kernels.addBiasResidualLayerNorm(x: x.pointer, y: tmp.pointer, bias: w.b2.pointer,
                                             g: w.ln2g.pointer, b: w.ln2b.pointer, rows: n, d: d, eps: eps)
            if wantedSet.contains(l + 1) { results[l + 1] = x.toArray() }
        }
        return BertHiddenStates(lengths: lengths, offsets: offsets, dim: d, layers: results)
    }

    /// Scaled dot-product attention of each sequence and head over its own tokens only.
    private func attention(qkv: UnsafeMutablePointer<Float>, ctx: UnsafeMutablePointer<Float>,
                           offsets: [Int], lengths: [Int], d: Int, heads: Int, dh: Int, scale: Float) {
        let items = lengths.count * heads
        // One item per (sequence, head); Dispatch balances them over the cores.
        Parallel.perform(items) { item in
            let b = item / heads, h = item % heads
            let t = lengths[b]
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: Kernels.attentionChunk(t: t, dh: dh) * t)
            defer { scores.deallocate() }
            let q = qkv + offsets[b] * 3 * d + h * dh
            Kernels.attentionHead(q: q, k: q + d, v: q + 2 * d, ld: 3 * d, out: ctx + offsets[b] * d + h * dh, ldo: d,
                                  t: t, dh: dh, scale: scale, scores: scores)
        }
    }
}
