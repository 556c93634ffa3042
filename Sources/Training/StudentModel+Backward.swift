extension StudentModel {
    /// Backward pass of the last `forward` (with targets): zeroes and fills `grads`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward() {
        precondition(lossReady, "backward() needs a preceding forward() with targets")
        grads.update(repeating: 0, count: layout.count)
        let dout = config.outputDim
        let dOut = self.dout.ensure(bsz * dout)
        switch config.loss {
        case .smoothL1:
            Ops.smoothL1Backward(dpred: dOut, pred: out.p, target: targets.p, count: bsz * dout)
        case .infoNCE:
            precondition(lossQueue.map { $0.version == lossQueueVersion } ?? true,
                         "the negative queue changed between forward() and backward()")
            let dl = dbig.ensure(max(bsz * (ncol + (lossQueue?.count ?? 0)), 1))
            rowGroups.withUnsafeBufferPointer { rg in
                Ops.infoNCEBackward(dpred: dpredN.ensure(bsz * dout), dlogTemperature: grads + offLogTemp, dlogits: dl,
                                    logits: logits.p, rowProbs: rowProbs.p, colProbs: config.symmetric ? colProbs.p : nil,
                                    targets: targets.p, logTemperature: params[offLogTemp],
                                    batch: bsz, columns: ncol, dim: dout, symmetric: config.symmetric,
                                    queue: lossQueue?.negatives(rowGroups: rg.baseAddress!))
            }
            Ops.l2NormalizeBackward(dinp: dOut, dout: dpredN.p, out: predN.p, norms: norms.p, rows: bsz, columns: dout)
            if !config.learnTemperature { grads[offLogTemp] = 0 }
        }
        switch config.kind {
        case .mlp: mlpBackward()
        case .sigPredictor: sigBackward()
        case .tokenDecoder: decoderBackward()
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func mlpBackward() {
        let din = config.inputDim, h = config.mlpHidden, dout = config.outputDim
        let dh = dbig.ensure(bsz * h)
        Ops.linearBackward(dinp: dh, dw: grads + offFc2, db: grads + offFc2 + dout * h, dout: self.dout.p,
                           inp: hidAct.p, w: params + offFc2, n: bsz, inDim: h, outDim: dout)
        if dropoutOn { Ops.dropoutBackward(dinp: dh, dout: dh, mask: hidMask.p, count: bsz * h) }
        Ops.geluBackward(dinp: dh, dout: dh, inp: hidPre.p, count: bsz * h)
        Ops.linearBackward(dinp: nil, dw: grads + offFc1, db: grads + offFc1 + h * din, dout: dh,
                           inp: pooled.p, w: params + offFc1, n: bsz, inDim: din, outDim: h)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func sigBackward() {
        let d = config.dModel, n = ntok, dout = config.outputDim
        let dres = self.dres.ensure(n * d), dtmp = self.dtmp.ensure(n * d)
        // Output projection and pooling.
        Ops.linearBackward(dinp: dpooled.ensure(bsz * d), dw: grads + offOut, db: grads + offOut + dout * d,
                           dout: self.dout.p, inp: pooled.p, w: params + offOut, n: bsz, inDim: d, outDim: dout)
        offsets.withUnsafeBufferPointer { o in
            Ops.meanPoolBackward(dinp: offLnf >= 0 ? dtmp : dres, dout: dpooled.p, offsets: o.baseAddress!, count: bsz, columns: d)
        }
        encoderBackward(offLnf >= 0 ? dtmp : dres)
    }

    /// Backward of `encoderForward` from the gradient `g [ntok, dModel]` of its output (`dtmp` or
    /// `dres` of this model, or any other buffer).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func encoderBackward(_ g: UnsafeMutablePointer<T>) {
        let din = config.inputDim, d = config.dModel, f = config.ffnDim, n = ntok
        let heads = config.heads
        let dres = self.dres.ensure(n * d), dtmp = self.dtmp.ensure(n * d), dtmp2 = self.dtmp2.ensure(n * d)
        let dbig = self.dbig.ensure(n * f), dqkv = self.dqkv.ensure(n * 3 * d)
        let scratch = dscratch.ensure(maxLen * maxLen)
        if offLnf >= 0 {
            if g == dres { dtmp.update(from: dres, count: n * d) }
            dres.update(repeating: 0, count: n * d)
            Ops.layerNormBackward(dinp: dres, dweight: grads + offLnf, dbias: grads + offLnf + d, dout: g == dres ? dtmp : g,
                                  inp: streamOutput, weight: params + offLnf, mean: lnfMean.p, rstd: lnfRstd.p, rows: n, columns: d)
        } else if g != dres {
            dres.update(from: g, count: n * d)
        }
        // Blocks, last to first; `dres` carries the residual-stream gradient.
        for l in stride(from: blockOffsets.count - 1, through: 0, by: -1) {
            let w = blockOffsets[l], a = blockActs[l]
            let x = l == 0 ? resid0.p : blockActs[l - 1].out.p
            blockTailBackward(a, w, rows: n, dres: dres, scratch: dtmp, datty: dtmp2, dbig: dbig)
            // res1 = x + drop(out_proj(attn(in_proj(ln1(x)))))
            offsets.withUnsafeBufferPointer { o in
                Ops.attentionBackward(dqkv: dqkv, scratch: scratch, dout: dtmp2, qkv: a.qkv.p, probs: a.probs.p,
                                      offsets: o.baseAddress!, count: bsz, heads: heads, dim: d)
            }
            Ops.linearBackward(dinp: dtmp2, dw: grads + w.qkvw, db: grads + w.qkvb, dout: dqkv, inp: a.ln1.p,
                               w: params + w.qkvw, n: n, inDim: d, outDim: 3 * d)
            Ops.layerNormBackward(dinp: dres, dweight: grads + w.ln1w, dbias: grads + w.ln1b, dout: dtmp2, inp: x,
                                  weight: params + w.ln1w, mean: a.ln1Mean.p, rstd: a.ln1Rstd.p, rows: n, columns: d)
        }
        Ops.linearBackward(dinp: nil, dw: grads + offIn, db: grads + offIn + d * din, dout: dres, inp: inp.p,
                           w: params + offIn, n: n, inDim: din, outDim: d)
    }
}
