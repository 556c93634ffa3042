extension Ops {
    /// SmoothL1 (Huber with beta = 1), mean over all `count` elements.
    public static func smoothL1Forward<T: TrainScalar>(pred: UnsafePointer<T>, target: UnsafePointer<T>, count: Int) -> T {
        var s: T = 0
        for i in 0..<count {
            let d = pred[i] - target[i], a = abs(d)
            s += a < 1 ? T(0.5) * d * d : a - T(0.5)
        }
        return s / T(count)
    }

    /// dpred = ∂(mean SmoothL1)/∂pred (overwritten).
    public static func smoothL1Backward<T: TrainScalar>(
        dpred: UnsafeMutablePointer<T>, pred: UnsafePointer<T>, target: UnsafePointer<T>, count: Int
    ) {
        let inv = 1 / T(count)
        for i in 0..<count {
            let d = pred[i] - target[i]
            dpred[i] = (abs(d) < 1 ? d : (d > 0 ? 1 : -1)) * inv
        }
    }

    /// InfoNCE over in-batch negatives, optional extra (hard-negative) targets and an optional
    /// negative queue, with a learnable temperature τ = exp(logTemperature).
    ///
    /// `pred [B, D]` and `targets [C, D]` are L2-normalised; row i's positive is target i, the other
    /// B − 1 batch targets and the C − B extra (hard-negative) targets are its negatives, except where
    /// `exclude[i·C + j] != 0` (same duplicate group: not a negative). The K = `queue.count` queued
    /// entries follow as columns C..<C+K (detached: no gradient flows into them), masked where their
    /// group is the row's. logits = pred·[targets; queue]ᵀ / τ, masked logits count as −∞.
    /// One-directional (pred → targets, cross-entropy over each row) or symmetric (mean of the row
    /// loss and the column loss over the B×B block; queued entries only enter the row loss).
    /// Fills `logits [B, C+K]`, `rowProbs [B, C+K]` and, when symmetric, `colProbs [B, B]`. Returns the loss.
    ///
    /// ```swift
    /// // B = 2 predictions, C = 2 batch targets, K = 3 queued targets, D = 4
    /// let q = QueuedNegatives(entries: queued, groups: queuedGroups, count: 3, rowGroups: batchGroups)
    /// let loss = Ops.infoNCEForward(logits: lg, rowProbs: p, colProbs: nil, pred: pn, targets: t, exclude: nil,
    ///                               logTemperature: log(0.07), batch: 2, columns: 2, dim: 4, symmetric: false, queue: q)
    /// ```
    public static func infoNCEForward<T: TrainScalar>(
        logits: UnsafeMutablePointer<T>, rowProbs: UnsafeMutablePointer<T>, colProbs: UnsafeMutablePointer<T>?,
        pred: UnsafePointer<T>, targets: UnsafePointer<T>, exclude: UnsafePointer<UInt8>?,
        logTemperature: T, batch bsz: Int, columns c: Int, dim d: Int, symmetric: Bool,
        queue: QueuedNegatives<T>? = nil
    ) -> T {
        let invT = T.exponential(-logTemperature)
        let k = queue?.count ?? 0, n = c + k
        T.gemm(transA: false, transB: true, m: bsz, n: c, k: d, alpha: invT,
               a: pred, lda: d, b: targets, ldb: d, beta: 0, c: logits, ldc: n)
        if let queue, k > 0 {
            T.gemm(transA: false, transB: true, m: bsz, n: k, k: d, alpha: invT,
                   a: pred, lda: d, b: queue.entries, ldb: d, beta: 0, c: logits + c, ldc: n)
        }
        @inline(__always) func masked(_ i: Int, _ j: Int) -> Bool {
            if j >= c, let queue { return queue.groups[j - c] == queue.rowGroups[i] }
            guard let exclude, i != j else { return false }
            return exclude[i * c + j] != 0
        }
        var rowLoss: T = 0
        for i in 0..<bsz {
            let lg = logits + i * n, p = rowProbs + i * n
            var mx = lg[i]
            for j in 0..<n where !masked(i, j) && lg[j] > mx { mx = lg[j] }
            var sum: T = 0
            for j in 0..<n {
                if masked(i, j) { lg[j] = 0; p[j] = 0; continue }
                let e = T.exponential(lg[j] - mx); p[j] = e; sum += e
            }
            let inv = 1 / sum
            for j in 0..<n { p[j] *= inv }
            rowLoss += mx + T.logarithm(sum) - lg[i]
        }
        rowLoss /= T(bsz)
        guard symmetric, let colProbs else { return rowLoss }
        var colLoss: T = 0
        for j in 0..<bsz {
            var mx = logits[j * n + j]
            for i in 0..<bsz where !masked(i, j) && logits[i * n + j] > mx { mx = logits[i * n + j] }
            var sum: T = 0
            for i in 0..<bsz {
                if masked(i, j) { colProbs[i * bsz + j] = 0; continue }
                let e = T.exponential(logits[i * n + j] - mx); colProbs[i * bsz + j] = e; sum += e
            }
            let inv = 1 / sum
            for i in 0..<bsz { colProbs[i * bsz + j] *= inv }
            colLoss += mx + T.logarithm(sum) - logits[j * n + j]
        }
        colLoss /= T(bsz)
        return T(0.5) * (rowLoss + colLoss)
    }

    /// Backward of `infoNCEForward` (same `queue`): dpred `[B, D]` (overwritten), dlogTemperature
    /// (accumulated), `dlogits [B, C+K]` is scratch. Queued entries get no gradient.
    public static func infoNCEBackward<T: TrainScalar>(
        dpred: UnsafeMutablePointer<T>, dlogTemperature: UnsafeMutablePointer<T>, dlogits: UnsafeMutablePointer<T>,
        logits: UnsafePointer<T>, rowProbs: UnsafePointer<T>, colProbs: UnsafePointer<T>?,
        targets: UnsafePointer<T>, logTemperature: T, batch bsz: Int, columns c: Int, dim d: Int, symmetric: Bool,
        queue: QueuedNegatives<T>? = nil
    ) {
        let k = queue?.count ?? 0, n = c + k
        let wr = (symmetric ? T(0.5) : 1) / T(bsz)
        let wc = T(0.5) / T(bsz)
        var ds: T = 0
        for i in 0..<bsz {
            let p = rowProbs + i * n, g = dlogits + i * n, lg = logits + i * n
            for j in 0..<n {
                var v = wr * (p[j] - (i == j ? 1 : 0))
                if symmetric, let colProbs, j < bsz { v += wc * (colProbs[i * bsz + j] - (i == j ? 1 : 0)) }
                g[j] = v
                ds += v * lg[j]
            }
        }
        // logits = sim · exp(−s)  ⇒  ∂logits/∂s = −logits
        dlogTemperature.pointee -= ds
        let invT = T.exponential(-logTemperature)
        T.gemm(transA: false, transB: false, m: bsz, n: d, k: c, alpha: invT,
               a: dlogits, lda: n, b: targets, ldb: d, beta: 0, c: dpred, ldc: d)
        if let queue, k > 0 {
            T.gemm(transA: false, transB: false, m: bsz, n: d, k: k, alpha: invT,
                   a: dlogits + c, lda: n, b: queue.entries, ldb: d, beta: 1, c: dpred, ldc: d)
        }
    }
}

/// The queued negatives of one InfoNCE step as the loss op reads them: `count` detached unit
/// targets `entries [count, D]` with their duplicate groups, and the duplicate group of each
/// batch row. A row never sees an entry of its own group — the function itself or a duplicate
/// (`TrainingData` gives every singleton its own group).
///
/// ```swift
/// let q = QueuedNegatives(entries: buf, groups: g, count: 3, rowGroups: batchGroups)
/// ```
public struct QueuedNegatives<T: TrainScalar> {
    public var entries: UnsafePointer<T>
    public var groups: UnsafePointer<Int>
    public var count: Int
    public var rowGroups: UnsafePointer<Int>

    public init(entries: UnsafePointer<T>, groups: UnsafePointer<Int>, count: Int, rowGroups: UnsafePointer<Int>) {
        self.entries = entries; self.groups = groups; self.count = count; self.rowGroups = rowGroups
    }
}
