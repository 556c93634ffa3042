import Tensor

/// Hand-written forward/backward ops over flat row-major buffers (llm.c style).
///
/// Conventions: activations are `[rows, columns]` row-major; parameter gradients are
/// **accumulated** (`+=`, zero them once per step); input gradients are **overwritten** unless the
/// op says otherwise (LayerNorm accumulates into `dinp`, which suits the residual stream).
///
/// ```swift
/// // y[n, out] = x[n, in] · Wᵀ + b   (W in PyTorch layout [out, in])
/// Ops.linearForward(y, x, w, b, n: 4, inDim: 16, outDim: 8)
/// Ops.linearBackward(dinp: dx, dw: dw, db: db, dout: dy, inp: x, w: w, n: 4, inDim: 16, outDim: 8)
/// ```
public enum Ops {}

extension Ops {
    /// out[n, outDim] = inp[n, inDim] · wᵀ + b, with `w` stored `[outDim, inDim]`.
    public static func linearForward<T: TrainScalar>(
        _ out: UnsafeMutablePointer<T>, _ inp: UnsafePointer<T>, _ w: UnsafePointer<T>, _ b: UnsafePointer<T>?,
        n: Int, inDim: Int, outDim: Int
    ) {
        if let b {
            Parallel.ranges(n, minChunk: max(1, (1 << 16) / max(outDim, 1))) { r in
                for i in r { (out + i * outDim).update(from: b, count: outDim) }
            }
        }
        T.gemm(transA: false, transB: true, m: n, n: outDim, k: inDim, alpha: 1,
               a: inp, lda: inDim, b: w, ldb: inDim, beta: b == nil ? 0 : 1, c: out, ldc: outDim)
    }

    /// dinp = dout · w (overwritten; skipped when nil), dw += doutᵀ · inp, db += Σ_rows dout.
    public static func linearBackward<T: TrainScalar>(
        dinp: UnsafeMutablePointer<T>?, dw: UnsafeMutablePointer<T>, db: UnsafeMutablePointer<T>?,
        dout: UnsafePointer<T>, inp: UnsafePointer<T>, w: UnsafePointer<T>,
        n: Int, inDim: Int, outDim: Int
    ) {
        if let dinp {
            T.gemm(transA: false, transB: false, m: n, n: inDim, k: outDim, alpha: 1,
                   a: dout, lda: outDim, b: w, ldb: inDim, beta: 0, c: dinp, ldc: inDim)
        }
        T.gemm(transA: true, transB: false, m: outDim, n: inDim, k: n, alpha: 1,
               a: dout, lda: outDim, b: inp, ldb: inDim, beta: 1, c: dw, ldc: inDim)
        if let db { columnSums(db, dout, rows: n, columns: outDim) }
    }

    /// acc[c] += Σ_r x[r, c] (fixed summation order: deterministic).
    @inline(__always)
    static func columnSums<T: TrainScalar>(_ acc: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>, rows: Int, columns: Int) {
        // Parallel over column ranges: each column is summed by one thread in row order.
        Parallel.ranges(columns, minChunk: rows * columns >= 1 << 16 ? 64 : columns + 1) { cr in
            for r in 0..<rows {
                let row = x + r * columns
                for c in cr { acc[c] += row[c] }
            }
        }
    }

    /// out = a + b (the residual connection); its backward hands `dout` to both inputs.
    public static func residualForward<T: TrainScalar>(
        _ out: UnsafeMutablePointer<T>, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int
    ) {
        Parallel.ranges(count, minChunk: 1 << 16) { r in
            for i in r { out[i] = a[i] + b[i] }
        }
    }

    /// da += dout, db += dout.
    public static func residualBackward<T: TrainScalar>(
        da: UnsafeMutablePointer<T>, db: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, count: Int
    ) {
        for i in 0..<count { da[i] += dout[i]; db[i] += dout[i] }
    }
}
