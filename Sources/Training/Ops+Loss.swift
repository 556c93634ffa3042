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

    /// InfoNCE over in-batch negatives with a learnable temperature τ = exp(logTemperature).
    ///
    /// `pred [B, D]` and `targets [C, D]` are L2-normalised; row i's positive is target i, the other
    /// B − 1 batch targets and the C − B extra (hard-negative) targets are its negatives, except where
    /// `exclude[i·C + j] != 0` (same duplicate group: not a negative). logits = pred·targetsᵀ / τ.
    /// One-directional (pred → targets, cross-entropy over each row) or symmetric (mean of the row
    /// loss and the column loss over the B×B block). Fills `logits [B, C]`, `rowProbs [B, C]` and,
    /// when symmetric, `colProbs [B, B]`. Returns the loss.
    public static func infoNCEForward<T: TrainScalar>(
        logits: UnsafeMutablePointer<T>, rowProbs: UnsafeMutablePointer<T>, colProbs: UnsafeMutablePointer<T>?,
        pred: UnsafePointer<T>, targets: UnsafePointer<T>, exclude: UnsafePointer<UInt8>?,
        logTemperature: T, batch bsz: Int, columns c: Int, dim d: Int, symmetric: Bool
    ) -> T {
        let invT = T.exponential(-logTemperature)
        T.gemm(transA: false, transB: true, m: bsz, n: c, k: d, alpha: invT,
               a: pred, lda: d, b: targets, ldb: d, beta: 0, c: logits, ldc: c)
        @inline(__always) func masked(_ i: Int, _ j: Int) -> Bool {
            guard let exclude, i != j else { return false }
            return exclude[i * c + j] != 0
        }
        var rowLoss: T = 0
        for i in 0..<bsz {
            let lg = logits + i * c, p = rowProbs + i * c
            var mx = lg[i]
            for j in 0..<c where !masked(i, j) && lg[j] > mx { mx = lg[j] }
            var sum: T = 0
            for j in 0..<c {
                if masked(i, j) { lg[j] = 0; p[j] = 0; continue }
                let e = T.exponential(lg[j] - mx); p[j] = e; sum += e
            }
            let inv = 1 / sum
            for j in 0..<c { p[j] *= inv }
            rowLoss += mx + T.logarithm(sum) - lg[i]
        }
        rowLoss /= T(bsz)
        guard symmetric, let colProbs else { return rowLoss }
        var colLoss: T = 0
        for j in 0..<bsz {
            var mx = logits[j * c + j]
            for i in 0..<bsz where !masked(i, j) && logits[i * c + j] > mx { mx = logits[i * c + j] }
            var sum: T = 0
            for i in 0..<bsz {
                if masked(i, j) { colProbs[i * bsz + j] = 0; continue }
                let e = T.exponential(logits[i * c + j] - mx); colProbs[i * bsz + j] = e; sum += e
            }
            let inv = 1 / sum
            for i in 0..<bsz { colProbs[i * bsz + j] *= inv }
            colLoss += mx + T.logarithm(sum) - logits[j * c + j]
        }
        colLoss /= T(bsz)
        return T(0.5) * (rowLoss + colLoss)
    }

    /// Backward of `infoNCEForward`: dpred `[B, D]` (overwritten), dlogTemperature (accumulated),
    /// `dlogits [B, C]` is scratch.
    public static func infoNCEBackward<T: TrainScalar>(
        dpred: UnsafeMutablePointer<T>, dlogTemperature: UnsafeMutablePointer<T>, dlogits: UnsafeMutablePointer<T>,
        logits: UnsafePointer<T>, rowProbs: UnsafePointer<T>, colProbs: UnsafePointer<T>?,
        targets: UnsafePointer<T>, logTemperature: T, batch bsz: Int, columns c: Int, dim d: Int, symmetric: Bool
    ) {
        let wr = (symmetric ? T(0.5) : 1) / T(bsz)
        let wc = T(0.5) / T(bsz)
        var ds: T = 0
        for i in 0..<bsz {
            let p = rowProbs + i * c, g = dlogits + i * c, lg = logits + i * c
            for j in 0..<c {
                var v = wr * (p[j] - (i == j ? 1 : 0))
                if symmetric, let colProbs, j < bsz { v += wc * (colProbs[i * bsz + j] - (i == j ? 1 : 0)) }
                g[j] = v
                ds += v * lg[j]
            }
        }
        // logits = sim · exp(−s)  ⇒  ∂logits/∂s = −logits
        dlogTemperature.pointee -= ds
        T.gemm(transA: false, transB: false, m: bsz, n: d, k: c, alpha: T.exponential(-logTemperature),
               a: dlogits, lda: c, b: targets, ldb: d, beta: 0, c: dpred, ldc: d)
    }
}
