import Testing
import TestSupport
@testable import Training

/// Each op's backward against Float64 central differences of its forward, L = Σ g ⊙ op(x).
@Suite(.ownThreads) struct OpsGradientTests {
    let tolerance = 1e-4

    @Test func linear() {
        var rng = TrainingRNG(seed: 1)
        let n = 5, i = 4, o = 3
        let x = DBuf(randomValues(n * i, &rng)), w = DBuf(randomValues(o * i, &rng)), b = DBuf(randomValues(o, &rng))
        let g = DBuf(randomValues(n * o, &rng)), y = DBuf(zeros: n * o)
        let dx = DBuf(zeros: n * i), dw = DBuf(zeros: o * i), db = DBuf(zeros: o)
        Ops.linearBackward(dinp: dx.p, dw: dw.p, db: db.p, dout: g.p, inp: x.p, w: w.p, n: n, inDim: i, outDim: o)
        let loss = { Ops.linearForward(y.p, x.p, w.p, b.p, n: n, inDim: i, outDim: o); return dot(g.p, y.p, n * o) }
        #expect(finiteDifferenceError(x.p, count: n * i, analytic: dx.array, loss: loss) < tolerance)
        #expect(finiteDifferenceError(w.p, count: o * i, analytic: dw.array, loss: loss) < tolerance)
        #expect(finiteDifferenceError(b.p, count: o, analytic: db.array, loss: loss) < tolerance)
    }

    @Test func layerNorm() {
        var rng = TrainingRNG(seed: 2)
        let n = 4, c = 6
        let x = DBuf(randomValues(n * c, &rng, scale: 2)), w = DBuf(randomValues(c, &rng)), b = DBuf(randomValues(c, &rng))
        let g = DBuf(randomValues(n * c, &rng)), y = DBuf(zeros: n * c), mean = DBuf(zeros: n), rstd = DBuf(zeros: n)
        let dx = DBuf(zeros: n * c), dw = DBuf(zeros: c), db = DBuf(zeros: c)
        let loss = {
            Ops.layerNormForward(y.p, mean: mean.p, rstd: rstd.p, x.p, weight: w.p, bias: b.p, rows: n, columns: c, eps: 1e-5)
            return dot(g.p, y.p, n * c)
        }
        _ = loss()
        Ops.layerNormBackward(dinp: dx.p, dweight: dw.p, dbias: db.p, dout: g.p, inp: x.p, weight: w.p,
                              mean: mean.p, rstd: rstd.p, rows: n, columns: c)
        #expect(finiteDifferenceError(x.p, count: n * c, analytic: dx.array, loss: loss) < tolerance)
        #expect(finiteDifferenceError(w.p, count: c, analytic: dw.array, loss: loss) < tolerance)
        #expect(finiteDifferenceError(b.p, count: c, analytic: db.array, loss: loss) < tolerance)
    }

    @Test func geluDropoutResidual() {
        var rng = TrainingRNG(seed: 3)
        let n = 20
        let x = DBuf(randomValues(n, &rng, scale: 2)), g = DBuf(randomValues(n, &rng)), y = DBuf(zeros: n), dx = DBuf(zeros: n)
        Ops.geluBackward(dinp: dx.p, dout: g.p, inp: x.p, count: n)
        #expect(finiteDifferenceError(x.p, count: n, analytic: dx.array) {
            Ops.geluForward(y.p, x.p, count: n); return dot(g.p, y.p, n)
        } < tolerance)
        // Dropout: the same seed draws the same mask, so the op is linear in x.
        let mask = DBuf(zeros: n)
        let drop = { var r = TrainingRNG(seed: 9); Ops.dropoutForward(y.p, mask: mask.p, x.p, count: n, p: 0.3, rng: &r) }
        drop()
        #expect(mask.array.contains(0) && mask.array.contains { abs($0 - 1 / 0.7) < 1e-12 })
        Ops.dropoutBackward(dinp: dx.p, dout: g.p, mask: mask.p, count: n)
        #expect(finiteDifferenceError(x.p, count: n, analytic: dx.array) { drop(); return dot(g.p, y.p, n) } < tolerance)
        // GELU keeping its derivative, then the fused backward with the dropout mask: bitwise what
        // geluForward, dropoutBackward and geluBackward give (Float, as training runs), on 100k values
        // so both threads take part.
        let m = 100_000
        var fr = TrainingRNG(seed: 4)
        let xf = (0..<m).map { _ in Float(fr.normal() * 3) }, gf = (0..<m).map { _ in Float(fr.normal()) }
        let maskf = (0..<m).map { _ in fr.uniform() < 0.1 ? Float(0) : Float(1 / 0.9) }
        var yRef = [Float](repeating: 0, count: m), dDrop = yRef, dRef = yRef, yNew = yRef, kept = xf, dNew = yRef
        Ops.geluForward(&yRef, xf, count: m)
        Ops.dropoutBackward(dinp: &dDrop, dout: gf, mask: maskf, count: m)
        Ops.geluBackward(dinp: &dRef, dout: dDrop, inp: xf, count: m)
        Ops.geluForwardKeepingDerivative(&yNew, &kept, count: m)
        Ops.scaleBackward(dinp: &dNew, dout: gf, factor: kept, mask: maskf, count: m)
        #expect(yNew == yRef)
        #expect(dNew == dRef)
        // Residual.
        let a = DBuf(randomValues(n, &rng)), da = DBuf(zeros: n), db = DBuf(zeros: n)
        Ops.residualBackward(da: da.p, db: db.p, dout: g.p, count: n)
        let res = { Ops.residualForward(y.p, a.p, x.p, count: n); return dot(g.p, y.p, n) }
        #expect(finiteDifferenceError(a.p, count: n, analytic: da.array, loss: res) < tolerance)
        #expect(finiteDifferenceError(x.p, count: n, analytic: db.array, loss: res) < tolerance)
    }

    @Test func softmax() {
        var rng = TrainingRNG(seed: 4)
        let r = 3, c = 5
        let x = DBuf(randomValues(r * c, &rng, scale: 2)), g = DBuf(randomValues(r * c, &rng)), y = DBuf(zeros: r * c)
        let dx = DBuf(zeros: r * c)
        let loss = { y.p.update(from: x.p, count: r * c); Ops.softmaxForward(y.p, rows: r, columns: c); return dot(g.p, y.p, r * c) }
        _ = loss()
        for i in 0..<r {
            var s = 0.0
            for j in 0..<c { s += y.p[i * c + j] }
            #expect(abs(s - 1) < 1e-12)
        }
        Ops.softmaxBackward(dlogits: dx.p, dprobs: g.p, probs: y.p, rows: r, columns: c)
        #expect(finiteDifferenceError(x.p, count: r * c, analytic: dx.array, loss: loss) < tolerance)
    }

    @Test func attentionWithPaddingMask() {
        var rng = TrainingRNG(seed: 5)
        let d = 8, heads = 2, offsets = [0, 3, 4, 8]  // lengths 3, 1, 4
        let n = offsets.last!, bsz = offsets.count - 1
        let qkv = DBuf(randomValues(n * 3 * d, &rng)), g = DBuf(randomValues(n * d, &rng)), y = DBuf(zeros: n * d)
        let probs = DBuf(zeros: heads * (9 + 1 + 16)), dqkv = DBuf(zeros: n * 3 * d), scratch = DBuf(zeros: 16)
        let loss = {
            offsets.withUnsafeBufferPointer {
                Ops.attentionForward(y.p, probs: probs.p, qkv: qkv.p, offsets: $0.baseAddress!, count: bsz, heads: heads, dim: d)
            }
            return dot(g.p, y.p, n * d)
        }
        _ = loss()
        offsets.withUnsafeBufferPointer {
            Ops.attentionBackward(dqkv: dqkv.p, scratch: scratch.p, dout: g.p, qkv: qkv.p, probs: probs.p,
                                  offsets: $0.baseAddress!, count: bsz, heads: heads, dim: d)
        }
        #expect(finiteDifferenceError(qkv.p, count: n * 3 * d, analytic: dqkv.array, loss: loss) < tolerance)
        // A one-token sequence attends only to itself: its output is its own value vector.
        for j in 0..<d { #expect(abs(y.p[3 * d + j] - qkv.p[3 * 3 * d + 2 * d + j]) < 1e-12) }
    }

    @Test func meanPoolAndL2Normalize() {
        var rng = TrainingRNG(seed: 6)
        let c = 5, offsets = [0, 2, 7, 8], n = 8, bsz = 3
        let x = DBuf(randomValues(n * c, &rng)), g = DBuf(randomValues(bsz * c, &rng)), y = DBuf(zeros: bsz * c)
        let dx = DBuf(zeros: n * c)
        offsets.withUnsafeBufferPointer {
            Ops.meanPoolBackward(dinp: dx.p, dout: g.p, offsets: $0.baseAddress!, count: bsz, columns: c)
        }
        #expect(finiteDifferenceError(x.p, count: n * c, analytic: dx.array) {
            offsets.withUnsafeBufferPointer { Ops.meanPoolForward(y.p, x.p, offsets: $0.baseAddress!, count: bsz, columns: c) }
            return dot(g.p, y.p, bsz * c)
        } < tolerance)
        let z = DBuf(randomValues(bsz * c, &rng)), norms = DBuf(zeros: bsz), dz = DBuf(zeros: bsz * c)
        let l2 = { Ops.l2NormalizeForward(y.p, norms: norms.p, z.p, rows: bsz, columns: c); return dot(g.p, y.p, bsz * c) }
        _ = l2()
        Ops.l2NormalizeBackward(dinp: dz.p, dout: g.p, out: y.p, norms: norms.p, rows: bsz, columns: c)
        #expect(finiteDifferenceError(z.p, count: bsz * c, analytic: dz.array, loss: l2) < tolerance)
    }

    @Test func smoothL1() {
        var rng = TrainingRNG(seed: 7)
        let n = 30
        let p = DBuf(randomValues(n, &rng, scale: 1.5)), t = DBuf(randomValues(n, &rng, scale: 1.5)), dp = DBuf(zeros: n)
        Ops.smoothL1Backward(dpred: dp.p, pred: p.p, target: t.p, count: n)
        let diffs = (0..<n).map { abs(p.p[$0] - t.p[$0]) }
        #expect(diffs.contains { $0 > 1.01 } && diffs.contains { $0 < 0.99 })  // both branches exercised
        #expect(finiteDifferenceError(p.p, count: n, analytic: dp.array) {
            Ops.smoothL1Forward(pred: p.p, target: t.p, count: n)
        } < tolerance)
    }

    @Test(arguments: [false, true])
    func infoNCEWithTemperatureHardNegativesAndMask(symmetric: Bool) {
        var rng = TrainingRNG(seed: symmetric ? 8 : 18)
        let bsz = 4, extra = 3, c = bsz + extra, d = 6
        var tv = randomValues(c * d, &rng)
        for r in 0..<c {  // targets are unit vectors
            let s = (0..<d).map { tv[r * d + $0] * tv[r * d + $0] }.reduce(0, +).squareRoot()
            for j in 0..<d { tv[r * d + j] /= s }
        }
        let t = DBuf(tv), raw = DBuf(randomValues(bsz * d, &rng))
        let pn = DBuf(zeros: bsz * d), norms = DBuf(zeros: bsz), logT = DBuf([Double.logarithm(0.3)])
        let logits = DBuf(zeros: bsz * c), probs = DBuf(zeros: bsz * c), cprobs = DBuf(zeros: bsz * bsz)
        var mask = [UInt8](repeating: 0, count: bsz * c)
        mask[0 * c + 2] = 1; mask[2 * c + 0] = 1  // rows 0 and 2 are duplicates of each other
        mask[1 * c + 5] = 1                       // extra target 5 is a duplicate of row 1
        let loss: () -> Double = {
            Ops.l2NormalizeForward(pn.p, norms: norms.p, raw.p, rows: bsz, columns: d)
            return mask.withUnsafeBufferPointer {
                Ops.infoNCEForward(logits: logits.p, rowProbs: probs.p, colProbs: cprobs.p, pred: pn.p, targets: t.p,
                                   exclude: $0.baseAddress, logTemperature: logT.p[0], batch: bsz, columns: c, dim: d,
                                   symmetric: symmetric)
            }
        }
        let l0 = loss()
        #expect(l0 > 0)
        let dpn = DBuf(zeros: bsz * d), draw = DBuf(zeros: bsz * d), dlogT = DBuf([0]), dl = DBuf(zeros: bsz * c)
        Ops.infoNCEBackward(dpred: dpn.p, dlogTemperature: dlogT.p, dlogits: dl.p, logits: logits.p, rowProbs: probs.p,
                            colProbs: cprobs.p, targets: t.p, logTemperature: logT.p[0], batch: bsz, columns: c, dim: d,
                            symmetric: symmetric)
        Ops.l2NormalizeBackward(dinp: draw.p, dout: dpn.p, out: pn.p, norms: norms.p, rows: bsz, columns: d)
        #expect(finiteDifferenceError(raw.p, count: bsz * d, analytic: draw.array, loss: loss) < tolerance)
        #expect(finiteDifferenceError(logT.p, count: 1, analytic: dlogT.array, loss: loss) < tolerance)
        // Masked entries carry no probability.
        #expect(probs.p[0 * c + 2] == 0 && probs.p[1 * c + 5] == 0)
    }
}
