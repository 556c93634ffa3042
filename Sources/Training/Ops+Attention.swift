import Tensor

extension Ops {
    /// Row softmax in place: each of `rows` rows of length `columns` (stride `columns`).
    public static func softmaxForward<T: TrainScalar>(_ x: UnsafeMutablePointer<T>, rows: Int, columns: Int) {
        for r in 0..<rows {
            let row = x + r * columns
            var mx = row[0]
            for j in 1..<columns where row[j] > mx { mx = row[j] }
            var sum: T = 0
            for j in 0..<columns { let e = T.exponential(row[j] - mx); row[j] = e; sum += e }
            let inv = 1 / sum
            for j in 0..<columns { row[j] *= inv }
        }
    }

    /// dlogits = p ⊙ (dp − Σ_j p·dp), row by row; `dlogits` may alias `dprobs`.
    public static func softmaxBackward<T: TrainScalar>(
        dlogits: UnsafeMutablePointer<T>, dprobs: UnsafePointer<T>, probs: UnsafePointer<T>, rows: Int, columns: Int
    ) {
        for r in 0..<rows {
            let p = probs + r * columns, dp = dprobs + r * columns, dl = dlogits + r * columns
            var dot: T = 0
            for j in 0..<columns { dot += p[j] * dp[j] }
            for j in 0..<columns { dl[j] = p[j] * (dp[j] - dot) }
        }
    }

    /// Number of attention-probability values `attentionForward` stores: heads · Σ Lᵢ².
    public static func attentionProbsCount(offsets: UnsafePointer<Int>, count: Int, heads: Int) -> Int {
        var s = 0
        for b in 0..<count { let l = offsets[b + 1] - offsets[b]; s += l * l }
        return s * heads
    }

    /// Multi-head self-attention core over variable-length sequences packed row after row.
    ///
    /// `qkv` is `[ntok, 3d]` (the in-projection output: q | k | v, PyTorch's `in_proj` order);
    /// sequence `b` owns rows `offsets[b]..<offsets[b+1]`. Each query attends only to the keys of its
    /// own sequence — exactly PyTorch's `key_padding_mask` on a batch padded to the longest sequence,
    /// without computing the padded rows. Writes the concatenated heads to `out [ntok, d]` and the
    /// attention probabilities (per sequence, per head, L×L) to `probs`.
    public static func attentionForward<T: TrainScalar>(
        _ out: UnsafeMutablePointer<T>, probs: UnsafeMutablePointer<T>, qkv: UnsafePointer<T>,
        offsets: UnsafePointer<Int>, count: Int, heads: Int, dim d: Int
    ) {
        let dh = d / heads, ld = 3 * d
        let scale = 1 / T(dh).squareRoot()
        let pStart = probOffsets(offsets, count: count, heads: heads)
        defer { pStart.deallocate() }
        Parallel.ranges(count, minChunk: 4) { br in
          for b in br {
            let start = offsets[b], l = offsets[b + 1] - start
            var pOff = pStart[b]
            for h in 0..<heads {
                let q = qkv + start * ld + h * dh, k = q + d, v = q + 2 * d
                let p = probs + pOff
                pOff += l * l
                T.gemm(transA: false, transB: true, m: l, n: l, k: dh, alpha: scale,
                       a: q, lda: ld, b: k, ldb: ld, beta: 0, c: p, ldc: l)
                softmaxForward(p, rows: l, columns: l)
                T.gemm(transA: false, transB: false, m: l, n: dh, k: l, alpha: 1,
                       a: p, lda: l, b: v, ldb: ld, beta: 0, c: out + start * d + h * dh, ldc: d)
            }
          }
        }
    }

    /// Start of each sequence's probabilities: heads · Σ_{b' < b} L_b'².
    static func probOffsets(_ offsets: UnsafePointer<Int>, count: Int, heads: Int) -> UnsafeMutablePointer<Int> {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: count + 1)
        p[0] = 0
        for b in 0..<count { let l = offsets[b + 1] - offsets[b]; p[b + 1] = p[b] + heads * l * l }
        return p
    }

    /// Backward of `attentionForward`: writes dqkv `[ntok, 3d]` (overwritten). `scratch` needs
    /// max Lᵢ² elements.
    public static func attentionBackward<T: TrainScalar>(
        dqkv: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>, dout: UnsafePointer<T>,
        qkv: UnsafePointer<T>, probs: UnsafePointer<T>,
        offsets: UnsafePointer<Int>, count: Int, heads: Int, dim d: Int
    ) {
        let dh = d / heads, ld = 3 * d
        let scale = 1 / T(dh).squareRoot()
        let pStart = probOffsets(offsets, count: count, heads: heads)
        defer { pStart.deallocate() }
        var maxL = 0
        for b in 0..<count { maxL = max(maxL, offsets[b + 1] - offsets[b]) }
        let parts = Parallel.parts(count, minChunk: 4)
        // Part 0 uses the caller's scratch, the others their own.
        let extra = UnsafeMutablePointer<T>.allocate(capacity: max(1, (parts - 1) * maxL * maxL))
        defer { extra.deallocate() }
        Parallel.each(parts, count) { part, br in
          let scratch = part == 0 ? scratch : extra + (part - 1) * maxL * maxL
          for b in br {
            let start = offsets[b], l = offsets[b + 1] - start
            var pOff = pStart[b]
            for h in 0..<heads {
                let q = qkv + start * ld + h * dh, k = q + d, v = q + 2 * d
                let dq = dqkv + start * ld + h * dh, dk = dq + d, dv = dq + 2 * d
                let dO = dout + start * d + h * dh
                let p = probs + pOff
                pOff += l * l
                // dV = Pᵀ·dO ; dP = dO·Vᵀ
                T.gemm(transA: true, transB: false, m: l, n: dh, k: l, alpha: 1,
                       a: p, lda: l, b: dO, ldb: d, beta: 0, c: dv, ldc: ld)
                T.gemm(transA: false, transB: true, m: l, n: l, k: dh, alpha: 1,
                       a: dO, lda: d, b: v, ldb: ld, beta: 0, c: scratch, ldc: l)
                softmaxBackward(dlogits: scratch, dprobs: scratch, probs: p, rows: l, columns: l)
                // dQ = scale·dS·K ; dK = scale·dSᵀ·Q
                T.gemm(transA: false, transB: false, m: l, n: dh, k: l, alpha: scale,
                       a: scratch, lda: l, b: k, ldb: ld, beta: 0, c: dq, ldc: ld)
                T.gemm(transA: true, transB: false, m: l, n: dh, k: l, alpha: scale,
                       a: scratch, lda: l, b: q, ldb: ld, beta: 0, c: dk, ldc: ld)
            }
          }
        }
    }
}
