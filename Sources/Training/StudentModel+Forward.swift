import Core

extension StudentModel {
    /// Forward pass with the loss. `training` turns dropout on (masks drawn from `dropoutSeed`).
    /// `negatives` (InfoNCE only, needs `batch.groups`): its live entries join every row's
    /// denominator; it must not change before the following `backward()`.
    /// Keeps every activation the following `backward()` needs. Returns the loss.
    @discardableResult
    public func forward(_ batch: Batch<T>, training: Bool, dropoutSeed: UInt64 = 0,
                        negatives: NegativeQueue<T>? = nil) throws -> T {
        try setInputs(tokens: batch.tokens, offsets: batch.offsets)
        let dout = config.outputDim
        guard batch.targets.count % dout == 0, batch.targets.count / dout >= bsz else {
            throw TrainingError.wrongDimension("batch has \(batch.targets.count) target values; need at least \(bsz) rows of \(dout)")
        }
        ncol = batch.targets.count / dout
        if config.loss == .smoothL1 && ncol != bsz {
            throw TrainingError.invalidBatch("SmoothL1 takes no extra negatives")
        }
        if let ex = batch.exclude {
            guard ex.count == bsz * ncol else {
                throw TrainingError.invalidBatch("exclude mask has \(ex.count) entries, expected \(bsz) × \(ncol)")
            }
            excludeMask = ex
            hasExclude = true
        } else {
            hasExclude = false
        }
        try setQueue(negatives, groups: batch.groups)
        if config.kind == .tokenDecoder { try setTargetTokens(batch) }
        targets.ensure(ncol * dout).update(from: batch.targets, count: ncol * dout)
        runBody(training: training, dropoutSeed: dropoutSeed, keepDerivatives: true)
        lastLoss = computeLoss()
        lossReady = true
        return lastLoss
    }

    private func setQueue(_ q: NegativeQueue<T>?, groups: [Int]?) throws {
        lossQueue = nil
        guard let q, q.count > 0 else { return }
        guard config.loss == .infoNCE else { throw TrainingError.invalidBatch("a negative queue needs the info_nce loss") }
        guard q.dim == config.outputDim else {
            throw TrainingError.wrongDimension("negative queue has dim \(q.dim), the model outputs \(config.outputDim)")
        }
        guard let groups, groups.count == bsz else {
            throw TrainingError.invalidBatch("a negative queue needs the duplicate group of each of the \(bsz) rows")
        }
        rowGroups = groups
        lossQueue = q
        lossQueueVersion = q.version
    }

    /// Predictions `[count, outputDim]` (raw model outputs, eval mode: no dropout). A
    /// `token_decoder` pools all `maxTargetTokens` query positions, as in training.
    public func predict(tokens: [T], offsets: [Int]) throws -> [T] {
        try setInputs(tokens: tokens, offsets: offsets)
        if config.kind == .tokenDecoder {
            queryOffsets = (0...bsz).map { $0 * config.maxTargetTokens }
            nq = queryOffsets[bsz]
            tokenOffsets = [Int](repeating: 0, count: bsz + 1)
            ntgt = 0
        }
        lossReady = false
        runBody(training: false, dropoutSeed: 0, keepDerivatives: false)
        return outputs
    }

    // MARK: - Body

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func runBody(training: Bool, dropoutSeed: UInt64, keepDerivatives: Bool) {
        dropoutOn = training && config.dropout > 0
        keepsDerivatives = keepDerivatives
        var rng = TrainingRNG(seed: dropoutSeed, stream: 7)
        out.ensure(bsz * config.outputDim)
        switch config.kind {
        case .mlp: mlpForward(rng: &rng)
        case .sigPredictor: sigForward(rng: &rng)
        case .tokenDecoder: decoderForward(memory: encoderForward(rng: &rng), rng: &rng)
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func mlpForward(rng: inout TrainingRNG) {
        let din = config.inputDim, h = config.mlpHidden
        offsets.withUnsafeBufferPointer { o in
            Ops.meanPoolForward(pooled.ensure(bsz * din), inp.p, offsets: o.baseAddress!, count: bsz, columns: din)
        }
        Ops.linearForward(hidPre.ensure(bsz * h), pooled.p, params + offFc1, params + offFc1 + h * din, n: bsz, inDim: din, outDim: h)
        Ops.geluForward(hidAct.ensure(bsz * h), hidPre.p, count: bsz * h)
        if dropoutOn {
            Ops.dropoutForward(hidAct.p, mask: hidMask.ensure(bsz * h), hidAct.p, count: bsz * h, p: config.dropout, rng: &rng)
        }
        Ops.linearForward(out.p, hidAct.p, params + offFc2, params + offFc2 + config.outputDim * h,
                          n: bsz, inDim: h, outDim: config.outputDim)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func sigForward(rng: inout TrainingRNG) {
        let d = config.dModel
        let x = encoderForward(rng: &rng)
        offsets.withUnsafeBufferPointer { o in
            Ops.meanPoolForward(pooled.ensure(bsz * d), x, offsets: o.baseAddress!, count: bsz, columns: d)
        }
        Ops.linearForward(out.p, pooled.p, params + offOut, params + offOut + config.outputDim * d,
                          n: bsz, inDim: d, outDim: config.outputDim)
    }

    /// Input projection, the pre-norm blocks and the final norm over the signature tokens; returns
    /// the encoded tokens `[ntok, dModel]`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func encoderForward(rng: inout TrainingRNG) -> UnsafeMutablePointer<T> {
        let din = config.inputDim, d = config.dModel, n = ntok
        let eps = T(config.layerNormEps), heads = config.heads
        Ops.linearForward(resid0.ensure(n * d), inp.p, params + offIn, params + offIn + d * din, n: n, inDim: din, outDim: d)
        let tmp = dtmp.ensure(n * d)
        var x = resid0.p
        let probsCount = offsets.withUnsafeBufferPointer {
            Ops.attentionProbsCount(offsets: $0.baseAddress!, count: bsz, heads: heads)
        }
        for (l, w) in blockOffsets.enumerated() {
            let a = blockActs[l]
            Ops.layerNormForward(a.ln1.ensure(n * d), mean: a.ln1Mean.ensure(n), rstd: a.ln1Rstd.ensure(n), x,
                                 weight: params + w.ln1w, bias: params + w.ln1b, rows: n, columns: d, eps: eps)
            Ops.linearForward(a.qkv.ensure(n * 3 * d), a.ln1.p, params + w.qkvw, params + w.qkvb, n: n, inDim: d, outDim: 3 * d)
            offsets.withUnsafeBufferPointer { o in
                Ops.attentionForward(a.atty.ensure(n * d), probs: a.probs.ensure(probsCount), qkv: a.qkv.p,
                                     offsets: o.baseAddress!, count: bsz, heads: heads, dim: d)
            }
            blockTailForward(a, w, x: x, rows: n, scratch: tmp, rng: &rng)
            x = a.out.p
        }
        if offLnf >= 0 {
            Ops.layerNormForward(lnf.ensure(n * d), mean: lnfMean.ensure(n), rstd: lnfRstd.ensure(n), x,
                                 weight: params + offLnf, bias: params + offLnf + d, rows: n, columns: d, eps: eps)
            x = lnf.p
        }
        return x
    }

    /// The last block's output (or the input projection when there are no blocks).
    var streamOutput: UnsafeMutablePointer<T> { blockActs.last?.out.p ?? resid0.p }

    // MARK: - Loss

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func computeLoss() -> T {
        let pooledLoss = computePooledLoss()
        guard config.kind == .tokenDecoder else { return pooledLoss }
        lastTokenLoss = Ops.tokenCosineForward(pred: tokPred.p, target: tokTargets.p, norms: tokNorms.ensure(ntgt),
                                               rows: ntgt, columns: config.outputDim)
        return pooledLoss + T(config.tokenLossWeight) * lastTokenLoss
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func computePooledLoss() -> T {
        let dout = config.outputDim
        switch config.loss {
        case .smoothL1:
            return Ops.smoothL1Forward(pred: out.p, target: targets.p, count: bsz * dout)
        case .infoNCE:
            Ops.l2NormalizeForward(predN.ensure(bsz * dout), norms: norms.ensure(bsz), out.p, rows: bsz, columns: dout)
            let n = ncol + (lossQueue?.count ?? 0)
            logits.ensure(bsz * n); rowProbs.ensure(bsz * n)
            if config.symmetric { colProbs.ensure(bsz * bsz) }
            return excludeMask.withUnsafeBufferPointer { ex in
                rowGroups.withUnsafeBufferPointer { rg in
                    Ops.infoNCEForward(logits: logits.p, rowProbs: rowProbs.p, colProbs: config.symmetric ? colProbs.p : nil,
                                       pred: predN.p, targets: targets.p, exclude: hasExclude ? ex.baseAddress : nil,
                                       logTemperature: params[offLogTemp], batch: bsz, columns: ncol, dim: dout,
                                       symmetric: config.symmetric, queue: lossQueue?.negatives(rowGroups: rg.baseAddress!))
                }
            }
        }
    }
}
