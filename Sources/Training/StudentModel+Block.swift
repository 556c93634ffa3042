/// The part of a pre-norm block after its attention core, shared by the encoder's self-attention
/// blocks and the `token_decoder`'s cross-attention blocks (they differ only in where the attention's
/// queries, keys and values come from):
///
/// ```
/// res1 = x + drop(out_proj(atty))                       atty: the attention core's output [n, d]
/// out  = res1 + drop(linear2(drop(gelu(linear1(ln2(res1))))))
/// ```
/// A forward that a backward may follow (`keepsDerivatives`) leaves GELU'(linear1 output) in `fc1Pre`
/// instead of the output itself, so the backward multiplies instead of evaluating erf and exp again.
/// ```swift
/// // after the attention core wrote a.atty:
/// blockTailForward(a, w, x: x, rows: n, scratch: tmp, rng: &rng)        // a.out is the block's output
/// // backward, dres holding ∂L/∂out:
/// blockTailBackward(a, w, rows: n, dres: dres, scratch: t1, datty: t2, dbig: big)
/// // now t2 = ∂L/∂atty and dres = ∂L/∂res1 (the attention core's and ln1's backward follow)
/// ```
extension StudentModel {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func blockTailForward(_ a: BlockActs, _ w: BlockOffsets, x: UnsafePointer<T>, rows n: Int,
                          scratch tmp: UnsafeMutablePointer<T>, rng: inout TrainingRNG) {
        let d = config.dModel, f = config.ffnDim, eps = T(config.layerNormEps)
        Ops.linearForward(tmp, a.atty.p, params + w.attw, params + w.attb, n: n, inDim: d, outDim: d)
        if dropoutOn { Ops.dropoutForward(tmp, mask: a.mask1.ensure(n * d), tmp, count: n * d, p: config.dropout, rng: &rng) }
        Ops.residualForward(a.res1.ensure(n * d), x, tmp, count: n * d)
        Ops.layerNormForward(a.ln2.ensure(n * d), mean: a.ln2Mean.ensure(n), rstd: a.ln2Rstd.ensure(n), a.res1.p,
                             weight: params + w.ln2w, bias: params + w.ln2b, rows: n, columns: d, eps: eps)
        Ops.linearForward(a.fc1Pre.ensure(n * f), a.ln2.p, params + w.fc1w, params + w.fc1b, n: n, inDim: d, outDim: f)
        if keepsDerivatives {
            Ops.geluForwardKeepingDerivative(a.fc1Act.ensure(n * f), a.fc1Pre.p, count: n * f)
        } else {
            Ops.geluForward(a.fc1Act.ensure(n * f), a.fc1Pre.p, count: n * f)
        }
        if dropoutOn { Ops.dropoutForward(a.fc1Act.p, mask: a.maskF.ensure(n * f), a.fc1Act.p, count: n * f, p: config.dropout, rng: &rng) }
        Ops.linearForward(tmp, a.fc1Act.p, params + w.fc2w, params + w.fc2b, n: n, inDim: f, outDim: d)
        if dropoutOn { Ops.dropoutForward(tmp, mask: a.mask2.ensure(n * d), tmp, count: n * d, p: config.dropout, rng: &rng) }
        Ops.residualForward(a.out.ensure(n * d), a.res1.p, tmp, count: n * d)
    }

    /// Backward of `blockTailForward`: `dres` holds ∂L/∂out on entry and ∂L/∂res1 on return; `datty`
    /// receives ∂L/∂atty. `scratch` and `datty` are `[n, d]`, `dbig` is `[n, ffnDim]`, all distinct.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func blockTailBackward(_ a: BlockActs, _ w: BlockOffsets, rows n: Int, dres: UnsafeMutablePointer<T>,
                           scratch: UnsafeMutablePointer<T>, datty: UnsafeMutablePointer<T>, dbig: UnsafeMutablePointer<T>) {
        let d = config.dModel, f = config.ffnDim
        // out = res1 + drop(fc2(drop(gelu(fc1(ln2(res1))))))
        var g: UnsafeMutablePointer<T> = dres
        if dropoutOn { Ops.dropoutBackward(dinp: scratch, dout: dres, mask: a.mask2.p, count: n * d); g = scratch }
        Ops.linearBackward(dinp: dbig, dw: grads + w.fc2w, db: grads + w.fc2b, dout: g, inp: a.fc1Act.p,
                           w: params + w.fc2w, n: n, inDim: f, outDim: d)
        Ops.scaleBackward(dinp: dbig, dout: dbig, factor: a.fc1Pre.p, mask: dropoutOn ? a.maskF.p : nil, count: n * f)
        Ops.linearBackward(dinp: datty, dw: grads + w.fc1w, db: grads + w.fc1b, dout: dbig, inp: a.ln2.p,
                           w: params + w.fc1w, n: n, inDim: d, outDim: f)
        Ops.layerNormBackward(dinp: dres, dweight: grads + w.ln2w, dbias: grads + w.ln2b, dout: datty, inp: a.res1.p,
                              weight: params + w.ln2w, mean: a.ln2Mean.p, rstd: a.ln2Rstd.p, rows: n, columns: d)
        // res1 = x + drop(out_proj(atty))
        g = dres
        if dropoutOn { Ops.dropoutBackward(dinp: scratch, dout: dres, mask: a.mask1.p, count: n * d); g = scratch }
        Ops.linearBackward(dinp: datty, dw: grads + w.attw, db: grads + w.attb, dout: g, inp: a.atty.p,
                           w: params + w.attw, n: n, inDim: d, outDim: d)
    }
}
