import Foundation
import Tensor

extension DecoderModel {
    /// Runs the decoder over a batch of token-id sequences and returns the hidden states of `layers`
    /// (0 = token embeddings, l < N = after block l, N = after block N and the final RMSNorm; see
    /// `DecoderModel`). Nothing is added to the ids (no BOS): pass what the tokenizer gives.
    ///
    /// Sequences are packed without padding: every projection runs as one GEMM over all tokens of
    /// the batch, attention runs per sequence and head with a causal mask (positions restart at 0
    /// in each sequence). Only blocks up to the deepest requested layer run; the output head never
    /// does. Blocks the calling thread (OpenBLAS and Core's `ParallelFor`).
    ///
    /// ```swift
    /// let s = try model.hiddenStates(batch: [[504, 1217, 28], [1217]], layers: [0, 15])
    /// s.sequence(1, layer: 15)   // 1 × D
    /// ```
    public func hiddenStates(batch: [[Int32]], layers wanted: [Int]) throws -> BertHiddenStates {
        let c = config
        let d = c.hiddenSize, ffn = c.intermediateSize, dh = c.headDim, heads = c.headCount, kvHeads = c.kvHeadCount
        let qDim = c.queryDim, kvDim = c.kvDim, ld = qDim + 2 * kvDim, eps = c.rmsNormEps
        let (offsets, lengths, n) = try BertHiddenStates.packing(batch, layers: wanted, layerCount: c.layerCount,
                                                                 maxTokens: c.contextLength, vocabSize: c.vocabSize)
        let wantedSet = Set(wanted)
        let deepest = wanted.max() ?? 0

        let x = FloatBuffer(count: n * d)          // residual stream
        let h = FloatBuffer(count: n * d)          // normed input of a sub-block
        let qkv = FloatBuffer(count: n * ld)
        let ctx = FloatBuffer(count: n * qDim)
        let gateUp = FloatBuffer(count: n * 2 * ffn)
        var results: [Int: [Float]] = [:]

        var rowIDs = [Int32](repeating: 0, count: n), rowPos = [Int32](repeating: 0, count: n)
        for (b, seq) in batch.enumerated() {
            for (t, id) in seq.enumerated() { rowIDs[offsets[b] + t] = id; rowPos[offsets[b] + t] = Int32(t) }
        }
        let scaleDivisor: Double
        switch c.ropeScaling {
        case .none: scaleDivisor = 1
        case .linear(let f): scaleDivisor = f
        }
        let rope = Kernels.ropeTable(positions: lengths.max() ?? 0, headDim: dh, base: c.ropeBase, positionScale: scaleDivisor)

        rowIDs.withUnsafeBufferPointer { ids in
            let xp = x.pointer, e = weights.embeddings.pointer
            Kernels.parallelRows(n) { range in
                for r in range { (xp + r * d).update(from: e + Int(ids[r]) * d, count: d) }
            }
        }
        if wantedSet.contains(0) { results[0] = x.toArray() }

        let scale = 1 / Float(dh).squareRoot()
        for l in 0..<min(deepest, weights.layers.count) {
            let w = weights.layers[l]
            // Attention: h = RMSNorm(x); qkv = h · Wqkvᵀ (+ bias); q/k norm (qwen3); RoPE; x += attn · Woᵀ.
            rmsNorm(x.pointer, into: h.pointer, weight: w.attnNorm.pointer, rows: n, d: d, eps: eps)
            if let b = w.bqkv {
                let bp = b.pointer, qp = qkv.pointer
                Kernels.parallelRows(n, minRowsPerChunk: 64) { range in
                    for r in range { (qp + r * ld).update(from: bp, count: ld) }
                }
            }
            Float.gemm(transA: false, transB: true, m: n, n: ld, k: d, alpha: 1, a: h.pointer, lda: d, b: w.wqkv.pointer, ldb: d,
                       beta: w.bqkv == nil ? 0 : 1, c: qkv.pointer, ldc: ld)
            rowPos.withUnsafeBufferPointer { pos in
                rope.cos.withUnsafeBufferPointer { cosT in
                    rope.sin.withUnsafeBufferPointer { sinT in
                        guard let cp = cosT.baseAddress, let sp = sinT.baseAddress else { return }
                        let qp = qkv.pointer, qn = w.qNorm?.pointer, kn = w.kNorm?.pointer
                        Kernels.parallelRows(n) { range in
                            for r in range {
                                let row = qp + r * ld
                                if let qn, let kn {
                                    for hh in 0..<heads { Kernels.rmsNormRow(row + hh * dh, out: row + hh * dh, weight: qn, d: dh, eps: eps) }
                                    for hh in 0..<kvHeads {
                                        let kr = row + qDim + hh * dh
                                        Kernels.rmsNormRow(kr, out: kr, weight: kn, d: dh, eps: eps)
                                    }
                                }
                                let p = Int(pos[r]) * (dh / 2)
                                Kernels.ropeRow(row, heads: heads + kvHeads, headDim: dh, cos: cp + p, sin: sp + p)
                            }
                        }
                    }
                }
            }
            attention(qkv: qkv.pointer, ctx: ctx.pointer, offsets: offsets, lengths: lengths, scale: scale)
            if let bo = w.bo {  // o_proj bias (attention_bias): added to the residual the projection accumulates into
                let bp = bo.pointer, xp = x.pointer
                Kernels.parallelRows(n, minRowsPerChunk: 64) { range in
                    for r in range { for j in 0..<d { xp[r * d + j] += bp[j] } }
                }
            }
            Float.gemm(transA: false, transB: true, m: n, n: d, k: qDim, alpha: 1, a: ctx.pointer, lda: qDim, b: w.wo.pointer, ldb: qDim,
                       beta: 1, c: x.pointer, ldc: d)
            // MLP: h = RMSNorm(x); [g | u] = h · [Wg; Wu]ᵀ; x += (silu(g) · u) · Wdownᵀ.
            rmsNorm(x.pointer, into: h.pointer, weight: w.ffnNorm.pointer, rows: n, d: d, eps: eps)
            Float.gemm(transA: false, transB: true, m: n, n: 2 * ffn, k: d, alpha: 1, a: h.pointer, lda: d, b: w.wGateUp.pointer, ldb: d,
                       beta: 0, c: gateUp.pointer, ldc: 2 * ffn)
            let gu = gateUp.pointer
            Kernels.parallelRows(n, minRowsPerChunk: 4) { range in
                for r in range { Kernels.swigluRow(gu + r * 2 * ffn, gu + r * 2 * ffn + ffn, n: ffn) }
            }
            Float.gemm(transA: false, transB: true, m: n, n: d, k: ffn, alpha: 1, a: gateUp.pointer, lda: 2 * ffn, b: w.wDown.pointer, ldb: ffn,
                       beta: 1, c: x.pointer, ldc: d)
            if wantedSet.contains(l + 1) {
                if l + 1 == c.layerCount {
                    rmsNorm(x.pointer, into: h.pointer, weight: weights.outputNorm.pointer, rows: n, d: d, eps: eps)
                    results[l + 1] = h.toArray()
                } else {
                    results[l + 1] = x.toArray()
                }
            }
        }
        return BertHiddenStates(lengths: lengths, offsets: offsets, dim: d, layers: results)
    }

    private func rmsNorm(_ x: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>,
                         rows: Int, d: Int, eps: Float) {
        Kernels.parallelRows(rows) { range in
            for r in range { Kernels.rmsNormRow(x + r * d, out: out + r * d, weight: weight, d: d, eps: eps) }
        }
    }

    /// Causal attention of each sequence and query head over its own tokens; query head h reads
    /// key/value head h / (heads / kvHeads) (grouped-query attention).
    private func attention(qkv: UnsafeMutablePointer<Float>, ctx: UnsafeMutablePointer<Float>,
                           offsets: [Int], lengths: [Int], scale: Float) {
        let c = config, heads = c.headCount, dh = c.headDim, qDim = c.queryDim, kvDim = c.kvDim
        let ld = qDim + 2 * kvDim, group = heads / c.kvHeadCount
        Parallel.perform(lengths.count * heads) { item in
            let b = item / heads, hh = item % heads, kv = hh / group
            let t = lengths[b]
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: Kernels.attentionChunk(t: t, dh: dh) * t)
            defer { scores.deallocate() }
            let base = qkv + offsets[b] * ld
            Kernels.attentionHead(q: base + hh * dh, k: base + qDim + kv * dh, v: base + qDim + kvDim + kv * dh, ld: ld,
                                  out: ctx + offsets[b] * qDim + hh * dh, ldo: qDim, t: t, dh: dh, scale: scale, scores: scores,
                                  causal: true)
        }
    }
}
