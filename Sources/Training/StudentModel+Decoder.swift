import Core

/// The `token_decoder` head: learned position queries cross-attend to the encoded signature.
///
/// Forward (per function i with Tᵢ query positions, Lᵢ signature tokens):
/// ```
/// x = query_embed[0..<cap]                                     [cap, d]
/// per block: x += drop(out_proj(xattn(q = ln1(x)·W_q, k|v = memory·W_kv)))    (keys: the Lᵢ real tokens)
///            x += drop(linear2(drop(gelu(linear1(ln2(x))))))
/// h = decoder.final_norm(x)
/// tokens = decoder.token_proj(h[0..<Tᵢ])   [Tᵢ, D]  → 1 − cos against the unit target token states
/// pooled = output_proj(mean_t h)           [D]      → InfoNCE like sig_predictor
/// ```
/// The queries are all `cap` = `maxTargetTokens` positions, in training as in prediction: the pooled
/// vector is the mean over the same positions in both (prediction cannot know the body's length),
/// and only the token head is limited to the Tᵢ positions that have a target.
/// ```swift
/// var c = ModelConfig(kind: .tokenDecoder, inputDim: 6, outputDim: 6); c.dModel = 8; c.heads = 2
/// let m = try StudentModel<Double>(config: c, seed: 0)
/// let b = Batch<Double>(tokens: x, offsets: [0, 2, 5], targets: y, targetTokens: yt, targetTokenOffsets: [0, 1, 4])
/// let loss = try m.forward(b, training: true)   // InfoNCE(pooled) + tokenLossWeight · mean(1 − cos)
/// ```
extension StudentModel {
    /// The encoder's output (the decoder's keys and values): the final norm, else the last block.
    var encoderOutput: UnsafeMutablePointer<T> { offLnf >= 0 ? lnf.p : streamOutput }

    func setTargetTokens(_ batch: Batch<T>) throws {
        let dout = config.outputDim, cap = config.maxTargetTokens
        guard let to = batch.targetTokenOffsets, to.count == bsz + 1, to[0] == 0 else {
            throw TrainingError.invalidBatch("token_decoder needs target token offsets for each of the \(bsz) rows, starting at 0")
        }
        for b in 0..<bsz where !(1...cap).contains(to[b + 1] - to[b]) {
            throw TrainingError.invalidBatch("row \(b) has \(to[b + 1] - to[b]) target tokens; need 1...\(cap)")
        }
        guard batch.targetTokens.count == to[bsz] * dout else {
            throw TrainingError.wrongDimension("batch has \(batch.targetTokens.count) target token values, expected \(to[bsz]) × \(dout)")
        }
        tokenOffsets = to
        ntgt = to[bsz]
        queryOffsets = (0...bsz).map { $0 * cap }
        nq = bsz * cap
        tokTargets.ensure(ntgt * dout).update(from: batch.targetTokens, count: ntgt * dout)
    }

    /// Copies each function's first Tᵢ rows of `src` ([bsz·cap, d]) to the packed `dst` ([Σ Tᵢ, d]).
    func gatherTargetRows(_ dst: UnsafeMutablePointer<T>, from src: UnsafePointer<T>, columns d: Int) {
        let cap = config.maxTargetTokens
        for b in 0..<bsz {
            let t = tokenOffsets[b + 1] - tokenOffsets[b]
            (dst + tokenOffsets[b] * d).update(from: src + b * cap * d, count: t * d)
        }
    }

    /// Adds the packed rows of `src` ([Σ Tᵢ, d]) to each function's first Tᵢ rows of `dst` ([bsz·cap, d]).
    func scatterAddTargetRows(_ dst: UnsafeMutablePointer<T>, from src: UnsafePointer<T>, columns d: Int) {
        let cap = config.maxTargetTokens
        for b in 0..<bsz {
            let t = tokenOffsets[b + 1] - tokenOffsets[b]
            let o = dst + b * cap * d, i = src + tokenOffsets[b] * d
            for k in 0..<(t * d) { o[k] += i[k] }
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func decoderForward(memory: UnsafeMutablePointer<T>, rng: inout TrainingRNG) {
        let d = config.dModel, dout = config.outputDim, heads = config.heads
        let n = nq, nk = ntok, eps = T(config.layerNormEps)
        queryOffsets.withUnsafeBufferPointer { qo in
            Ops.positionGatherForward(dec0.ensure(n * d), table: params + offQuery, offsets: qo.baseAddress!, count: bsz, columns: d)
        }
        let probsCount = queryOffsets.withUnsafeBufferPointer { qo in
            offsets.withUnsafeBufferPointer { ko in
                Ops.crossAttentionProbsCount(queryOffsets: qo.baseAddress!, keyOffsets: ko.baseAddress!, count: bsz, heads: heads)
            }
        }
        let tmp = ddtmp.ensure(n * d)
        var x = dec0.p
        for (l, w) in decoderOffsets.enumerated() {
            let a = decoderActs[l]
            Ops.layerNormForward(a.ln1.ensure(n * d), mean: a.ln1Mean.ensure(n), rstd: a.ln1Rstd.ensure(n), x,
                                 weight: params + w.ln1w, bias: params + w.ln1b, rows: n, columns: d, eps: eps)
            Ops.linearForward(a.qkv.ensure(n * d), a.ln1.p, params + w.qkvw, params + w.qkvb, n: n, inDim: d, outDim: d)
            Ops.linearForward(a.kv.ensure(nk * 2 * d), memory, params + w.qkvw + d * d, params + w.qkvb + d,
                              n: nk, inDim: d, outDim: 2 * d)
            queryOffsets.withUnsafeBufferPointer { qo in
                offsets.withUnsafeBufferPointer { ko in
                    Ops.crossAttentionForward(a.atty.ensure(n * d), probs: a.probs.ensure(probsCount), q: a.qkv.p, kv: a.kv.p,
                                              queryOffsets: qo.baseAddress!, keyOffsets: ko.baseAddress!,
                                              count: bsz, heads: heads, dim: d)
                }
            }
            blockTailForward(a, w, x: x, rows: n, scratch: tmp, rng: &rng)
            x = a.out.p
        }
        Ops.layerNormForward(decLnf.ensure(n * d), mean: decLnfMean.ensure(n), rstd: decLnfRstd.ensure(n), x,
                             weight: params + offDecLnf, bias: params + offDecLnf + d, rows: n, columns: d, eps: eps)
        if ntgt > 0 {
            gatherTargetRows(tokHidden.ensure(ntgt * d), from: decLnf.p, columns: d)
            Ops.linearForward(tokPred.ensure(ntgt * dout), tokHidden.p, params + offTokProj, params + offTokProj + dout * d,
                              n: ntgt, inDim: d, outDim: dout)
        }
        queryOffsets.withUnsafeBufferPointer { qo in
            Ops.meanPoolForward(pooled.ensure(bsz * d), decLnf.p, offsets: qo.baseAddress!, count: bsz, columns: d)
        }
        Ops.linearForward(out.p, pooled.p, params + offOut, params + offOut + dout * d, n: bsz, inDim: d, outDim: dout)
    }

    /// The predicted token states `[Σ Tᵢ, outputDim]` of the last training forward (raw, not normalised).
    public var tokenPredictions: [T] { Array(UnsafeBufferPointer(start: tokPred.p, count: ntgt * config.outputDim)) }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func decoderBackward() {
        let d = config.dModel, f = config.ffnDim, dout = config.outputDim, heads = config.heads
        let n = nq, nk = ntok
        let g = ddtmp.ensure(n * d), g2 = ddtmp2.ensure(n * d), dres = ddres.ensure(n * d), dbig = ddbig.ensure(n * f)
        let dq = self.dq.ensure(n * d), dkv = self.dkv.ensure(nk * 2 * d)
        let dmem = self.dmem.ensure(nk * d), dmemTmp = self.dmemTmp.ensure(nk * d)
        let memory = encoderOutput
        // Pooled head: output_proj, mean over the query positions.
        Ops.linearBackward(dinp: dpooled.ensure(bsz * d), dw: grads + offOut, db: grads + offOut + dout * d,
                           dout: self.dout.p, inp: pooled.p, w: params + offOut, n: bsz, inDim: d, outDim: dout)
        queryOffsets.withUnsafeBufferPointer { qo in
            Ops.meanPoolBackward(dinp: g, dout: dpooled.p, offsets: qo.baseAddress!, count: bsz, columns: d)
        }
        // Token head: weighted cosine loss, token_proj.
        Ops.tokenCosineBackward(dpred: dtok.ensure(ntgt * dout), pred: tokPred.p, target: tokTargets.p, norms: tokNorms.p,
                                rows: ntgt, columns: dout, scale: T(config.tokenLossWeight))
        Ops.linearBackward(dinp: g2, dw: grads + offTokProj, db: grads + offTokProj + dout * d, dout: dtok.p,
                           inp: tokHidden.p, w: params + offTokProj, n: ntgt, inDim: d, outDim: dout)
        scatterAddTargetRows(g, from: g2, columns: d)
        dres.update(repeating: 0, count: n * d)
        Ops.layerNormBackward(dinp: dres, dweight: grads + offDecLnf, dbias: grads + offDecLnf + d, dout: g,
                              inp: decoderActs.last?.out.p ?? dec0.p, weight: params + offDecLnf,
                              mean: decLnfMean.p, rstd: decLnfRstd.p, rows: n, columns: d)
        dmem.update(repeating: 0, count: nk * d)
        for l in stride(from: decoderOffsets.count - 1, through: 0, by: -1) {
            let w = decoderOffsets[l], a = decoderActs[l]
            let x = l == 0 ? dec0.p : decoderActs[l - 1].out.p
            blockTailBackward(a, w, rows: n, dres: dres, scratch: g, datty: g2, dbig: dbig)
            // res1 = x + drop(out_proj(xattn(ln1(x)·W_q, memory·W_kv)))
            queryOffsets.withUnsafeBufferPointer { qo in
                offsets.withUnsafeBufferPointer { ko in
                    Ops.crossAttentionBackward(dq: dq, dkv: dkv, dout: g2, q: a.qkv.p, kv: a.kv.p, probs: a.probs.p,
                                               queryOffsets: qo.baseAddress!, keyOffsets: ko.baseAddress!,
                                               count: bsz, heads: heads, dim: d)
                }
            }
            Ops.linearBackward(dinp: g2, dw: grads + w.qkvw, db: grads + w.qkvb, dout: dq, inp: a.ln1.p,
                               w: params + w.qkvw, n: n, inDim: d, outDim: d)
            Ops.linearBackward(dinp: dmemTmp, dw: grads + w.qkvw + d * d, db: grads + w.qkvb + d, dout: dkv, inp: memory,
                               w: params + w.qkvw + d * d, n: nk, inDim: d, outDim: 2 * d)
            for i in 0..<(nk * d) { dmem[i] += dmemTmp[i] }
            Ops.layerNormBackward(dinp: dres, dweight: grads + w.ln1w, dbias: grads + w.ln1b, dout: g2, inp: x,
                                  weight: params + w.ln1w, mean: a.ln1Mean.p, rstd: a.ln1Rstd.p, rows: n, columns: d)
        }
        queryOffsets.withUnsafeBufferPointer { qo in
            Ops.positionGatherBackward(dtable: grads + offQuery, dout: dres, offsets: qo.baseAddress!, count: bsz, columns: d)
        }
        encoderBackward(dmem)
    }
}
