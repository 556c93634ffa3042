import Tensor

extension Ops {
    /// Number of probabilities `crossAttentionForward` stores: heads · Σ Tᵢ·Lᵢ.
    public static func crossAttentionProbsCount(queryOffsets: UnsafePointer<Int>, keyOffsets: UnsafePointer<Int>,
                                                count: Int, heads: Int) -> Int {
        var s = 0
        for b in 0..<count { s += (queryOffsets[b + 1] - queryOffsets[b]) * (keyOffsets[b + 1] - keyOffsets[b]) }
        return s * heads
    }

    /// Multi-head cross-attention core: sequence b's Tᵢ queries (rows `queryOffsets[b]..<queryOffsets[b+1]`
    /// of `q [nq, d]`) attend to its own Lᵢ keys and values only (rows `keyOffsets[b]..<keyOffsets[b+1]`
    /// of `kv [nk, 2d]`, k | v) — PyTorch's `key_padding_mask` on padded keys, without the padding.
    /// Writes the concatenated heads to `out [nq, d]` and the probabilities (per sequence, per head,
    /// Tᵢ×Lᵢ) to `probs`.
    ///
    /// ```swift
    /// // two sequences: 3 queries over 2 keys, 1 query over 4 keys; d = 8, 2 heads
    /// Ops.crossAttentionForward(out, probs: p, q: q, kv: kv, queryOffsets: [0, 3, 4], keyOffsets: [0, 2, 6],
    ///                           count: 2, heads: 2, dim: 8)
    /// ```
    public static func crossAttentionForward<T: TrainScalar>(
        _ out: UnsafeMutablePointer<T>, probs: UnsafeMutablePointer<T>, q: UnsafePointer<T>, kv: UnsafePointer<T>,
        queryOffsets qo: UnsafePointer<Int>, keyOffsets ko: UnsafePointer<Int>, count: Int, heads: Int, dim d: Int
    ) {
        let dh = d / heads, ldkv = 2 * d
        let scale = 1 / T(dh).squareRoot()
        let pStart = crossProbOffsets(qo, ko, count: count, heads: heads)
        defer { pStart.deallocate() }
        Parallel.ranges(count, minChunk: 4) { br in
          for b in br {
            let qs = qo[b], tq = qo[b + 1] - qs, ks = ko[b], lk = ko[b + 1] - ks
            var pOff = pStart[b]
            for h in 0..<heads {
                let qh = q + qs * d + h * dh, k = kv + ks * ldkv + h * dh, v = k + d
                let p = probs + pOff
                pOff += tq * lk
                T.gemm(transA: false, transB: true, m: tq, n: lk, k: dh, alpha: scale,
                       a: qh, lda: d, b: k, ldb: ldkv, beta: 0, c: p, ldc: lk)
                softmaxForward(p, rows: tq, columns: lk)
                T.gemm(transA: false, transB: false, m: tq, n: dh, k: lk, alpha: 1,
                       a: p, lda: lk, b: v, ldb: ldkv, beta: 0, c: out + qs * d + h * dh, ldc: d)
            }
          }
        }
    }

    static func crossProbOffsets(_ qo: UnsafePointer<Int>, _ ko: UnsafePointer<Int>, count: Int, heads: Int) -> UnsafeMutablePointer<Int> {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: count + 1)
        p[0] = 0
        for b in 0..<count { p[b + 1] = p[b] + heads * (qo[b + 1] - qo[b]) * (ko[b + 1] - ko[b]) }
        return p
    }

    /// Backward of `crossAttentionForward`: writes dq `[nq, d]` and dkv `[nk, 2d]` (both overwritten).
    public static func crossAttentionBackward<T: TrainScalar>(
        dq: UnsafeMutablePointer<T>, dkv: UnsafeMutablePointer<T>, dout: UnsafePointer<T>,
        q: UnsafePointer<T>, kv: UnsafePointer<T>, probs: UnsafePointer<T>,
        queryOffsets qo: UnsafePointer<Int>, keyOffsets ko: UnsafePointer<Int>, count: Int, heads: Int, dim d: Int
    ) {
        let dh = d / heads, ldkv = 2 * d
        let scale = 1 / T(dh).squareRoot()
        let pStart = crossProbOffsets(qo, ko, count: count, heads: heads)
        defer { pStart.deallocate() }
        var maxTL = 1
        for b in 0..<count { maxTL = max(maxTL, (qo[b + 1] - qo[b]) * (ko[b + 1] - ko[b])) }
        let parts = Parallel.parts(count, minChunk: 4)
        let scratchAll = UnsafeMutablePointer<T>.allocate(capacity: parts * maxTL)
        defer { scratchAll.deallocate() }
        Parallel.each(parts, count) { part, br in
          let scratch = scratchAll + part * maxTL
          for b in br {
            let qs = qo[b], tq = qo[b + 1] - qs, ks = ko[b], lk = ko[b + 1] - ks
            var pOff = pStart[b]
            for h in 0..<heads {
                let qh = q + qs * d + h * dh, k = kv + ks * ldkv + h * dh, v = k + d
                let dqh = dq + qs * d + h * dh, dk = dkv + ks * ldkv + h * dh, dv = dk + d
                let dO = dout + qs * d + h * dh
                let p = probs + pOff
                pOff += tq * lk
                // dV = Pᵀ·dO ; dP = dO·Vᵀ
                T.gemm(transA: true, transB: false, m: lk, n: dh, k: tq, alpha: 1,
                       a: p, lda: lk, b: dO, ldb: d, beta: 0, c: dv, ldc: ldkv)
                T.gemm(transA: false, transB: true, m: tq, n: lk, k: dh, alpha: 1,
                       a: dO, lda: d, b: v, ldb: ldkv, beta: 0, c: scratch, ldc: lk)
                softmaxBackward(dlogits: scratch, dprobs: scratch, probs: p, rows: tq, columns: lk)
                // dQ = scale·dS·K ; dK = scale·dSᵀ·Q
                T.gemm(transA: false, transB: false, m: tq, n: dh, k: lk, alpha: scale,
                       a: scratch, lda: lk, b: k, ldb: ldkv, beta: 0, c: dqh, ldc: d)
                T.gemm(transA: true, transB: false, m: lk, n: dh, k: tq, alpha: scale,
                       a: scratch, lda: lk, b: qh, ldb: d, beta: 0, c: dk, ldc: ldkv)
            }
          }
        }
    }

    /// Position queries: row t of sequence b (rows `offsets[b]..<offsets[b+1]`) = `table[t]`, t < Tᵢ ≤ rows of the table.
    ///
    /// ```swift
    /// Ops.positionGatherForward(x, table: emb, offsets: [0, 3, 4], count: 2, columns: 8)   // rows 0,1,2,0 of emb
    /// ```
    public static func positionGatherForward<T: TrainScalar>(
        _ out: UnsafeMutablePointer<T>, table: UnsafePointer<T>, offsets: UnsafePointer<Int>, count: Int, columns c: Int
    ) {
        for b in 0..<count {
            let s = offsets[b]
            (out + s * c).update(from: table, count: (offsets[b + 1] - s) * c)
        }
    }

    /// dtable[t] += Σ_b dout[row t of sequence b].
    public static func positionGatherBackward<T: TrainScalar>(
        dtable: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, offsets: UnsafePointer<Int>, count: Int, columns c: Int
    ) {
        for b in 0..<count {
            let s = offsets[b], n = (offsets[b + 1] - s) * c
            let g = dout + s * c
            for i in 0..<n { dtable[i] += g[i] }
        }
    }

    /// Per-token cosine loss over packed (real-only) rows: mean over the `rows` of 1 − cos(pred, target)
    /// with unit `target` rows (padding never enters: the batch packs only real tokens). Saves ‖pred‖.
    ///
    /// ```swift
    /// let l = Ops.tokenCosineForward(pred: p, target: t, norms: n, rows: 5, columns: 6)
    /// Ops.tokenCosineBackward(dpred: dp, pred: p, target: t, norms: n, rows: 5, columns: 6, scale: 1)
    /// ```
    public static func tokenCosineForward<T: TrainScalar>(
        pred: UnsafePointer<T>, target: UnsafePointer<T>, norms: UnsafeMutablePointer<T>, rows: Int, columns c: Int,
        eps: T = T(1e-12)
    ) -> T {
        var s: T = 0
        for r in 0..<rows {
            let x = pred + r * c, y = target + r * c
            var nn: T = 0, dot: T = 0
            for i in 0..<c { nn += x[i] * x[i]; dot += x[i] * y[i] }
            let n = max(nn.squareRoot(), eps)
            norms[r] = n
            s += 1 - dot / n
        }
        return s / T(max(rows, 1))
    }

    /// dpred = scale · ∂(mean 1 − cos)/∂pred = −scale/rows · (t − (x̂·t)·x̂)/‖x‖ (overwritten).
    public static func tokenCosineBackward<T: TrainScalar>(
        dpred: UnsafeMutablePointer<T>, pred: UnsafePointer<T>, target: UnsafePointer<T>, norms: UnsafePointer<T>,
        rows: Int, columns c: Int, scale: T
    ) {
        let w = scale / T(max(rows, 1))
        for r in 0..<rows {
            let x = pred + r * c, y = target + r * c, g = dpred + r * c
            let inv = 1 / norms[r]
            var dot: T = 0
            for i in 0..<c { dot += x[i] * y[i] }
            let cosOverN = dot * inv * inv
            for i in 0..<c { g[i] = -w * (y[i] - cosOverN * x[i]) * inv }
        }
    }
}
