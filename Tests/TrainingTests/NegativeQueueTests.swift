import Foundation
import Testing
import TestSupport
@testable import Training

/// The InfoNCE negative queue: its gradient, its equality with one big batch holding the same
/// negatives, the duplicate-group mask, the ring buffer and its checkpoint state.
@Suite(.ownThreads) struct NegativeQueueTests {
    /// Unit rows `[rows, d]` from the generator.
    static func unitRows(_ rows: Int, _ d: Int, _ rng: inout TrainingRNG) -> [Double] {
        var v = randomValues(rows * d, &rng)
        for r in 0..<rows {
            let s = (0..<d).map { v[r * d + $0] * v[r * d + $0] }.reduce(0, +).squareRoot()
            for j in 0..<d { v[r * d + j] /= s }
        }
        return v
    }

    /// A queue holding these rows (oldest first) with their functions and groups.
    static func queue(_ rows: [Double], dim d: Int, groups: [Int], capacity: Int? = nil) -> NegativeQueue<Double> {
        let q = NegativeQueue<Double>(capacity: capacity ?? max(groups.count, 1), dim: d)
        rows.withUnsafeBufferPointer { p in
            for (k, g) in groups.enumerated() { q.enqueue(row: p.baseAddress! + k * d, function: 100 + k, group: g) }
        }
        return q
    }

    /// One op evaluation: loss, d raw pred, d logT (raw predictions go through the L2 norm as in the model).
    struct OpResult { var loss: Double, dpred: [Double], dlogT: Double }

    static func runOp(raw: [Double], targets: [Double], exclude: [UInt8]?, queue q: NegativeQueue<Double>?, rowGroups: [Int],
                      bsz: Int, cols: Int, d: Int, logT: Double, symmetric: Bool) -> OpResult {
        let n = cols + (q?.count ?? 0)
        let rawB = DBuf(raw), t = DBuf(targets), pn = DBuf(zeros: bsz * d), norms = DBuf(zeros: bsz)
        let logits = DBuf(zeros: bsz * n), probs = DBuf(zeros: bsz * n), cprobs = DBuf(zeros: bsz * bsz)
        let dpn = DBuf(zeros: bsz * d), draw = DBuf(zeros: bsz * d), dlogT = DBuf([0]), dl = DBuf(zeros: bsz * n)
        return rowGroups.withUnsafeBufferPointer { rg in
            let qn = q?.negatives(rowGroups: rg.baseAddress!)
            Ops.l2NormalizeForward(pn.p, norms: norms.p, rawB.p, rows: bsz, columns: d)
            let loss = (exclude ?? []).withUnsafeBufferPointer { ex in
                Ops.infoNCEForward(logits: logits.p, rowProbs: probs.p, colProbs: cprobs.p, pred: pn.p, targets: t.p,
                                   exclude: exclude == nil ? nil : ex.baseAddress, logTemperature: logT, batch: bsz,
                                   columns: cols, dim: d, symmetric: symmetric, queue: qn)
            }
            Ops.infoNCEBackward(dpred: dpn.p, dlogTemperature: dlogT.p, dlogits: dl.p, logits: logits.p, rowProbs: probs.p,
                                colProbs: cprobs.p, targets: t.p, logTemperature: logT, batch: bsz, columns: cols, dim: d,
                                symmetric: symmetric, queue: qn)
            Ops.l2NormalizeBackward(dinp: draw.p, dout: dpn.p, out: pn.p, norms: norms.p, rows: bsz, columns: d)
            return OpResult(loss: loss, dpred: Array(draw.array.prefix(bsz * d)), dlogT: dlogT.p[0])
        }
    }

    static func maxDiff(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

    @Test(arguments: [false, true])
    func queueGradientMatchesFiniteDifferences(symmetric: Bool) {
        var rng = TrainingRNG(seed: symmetric ? 31 : 32)
        let bsz = 3, cols = 4, k = 5, d = 6
        let targets = Self.unitRows(cols, d, &rng), queued = Self.unitRows(k, d, &rng)
        let rowGroups = [10, 11, 12]
        // Entry 1 is a duplicate of row 0, entry 3 is row 2's own function: both masked for those rows.
        let q = Self.queue(queued, dim: d, groups: [50, 10, 51, 12, 52])
        var mask = [UInt8](repeating: 0, count: bsz * cols)
        mask[1 * cols + 3] = 1  // the hard negative is a duplicate of row 1
        let raw = DBuf(randomValues(bsz * d, &rng)), logT = DBuf([Double.logarithm(0.3)])
        let t = DBuf(targets), pn = DBuf(zeros: bsz * d), norms = DBuf(zeros: bsz), n = cols + k
        let logits = DBuf(zeros: bsz * n), probs = DBuf(zeros: bsz * n), cprobs = DBuf(zeros: bsz * bsz)
        rowGroups.withUnsafeBufferPointer { rg in
            let qn = q.negatives(rowGroups: rg.baseAddress!)
            let loss: () -> Double = {
                Ops.l2NormalizeForward(pn.p, norms: norms.p, raw.p, rows: bsz, columns: d)
                return mask.withUnsafeBufferPointer {
                    Ops.infoNCEForward(logits: logits.p, rowProbs: probs.p, colProbs: cprobs.p, pred: pn.p, targets: t.p,
                                       exclude: $0.baseAddress, logTemperature: logT.p[0], batch: bsz, columns: cols, dim: d,
                                       symmetric: symmetric, queue: qn)
                }
            }
            #expect(loss() > 0)
            let dpn = DBuf(zeros: bsz * d), draw = DBuf(zeros: bsz * d), dlogT = DBuf([0]), dl = DBuf(zeros: bsz * n)
            Ops.infoNCEBackward(dpred: dpn.p, dlogTemperature: dlogT.p, dlogits: dl.p, logits: logits.p, rowProbs: probs.p,
                                colProbs: cprobs.p, targets: t.p, logTemperature: logT.p[0], batch: bsz, columns: cols, dim: d,
                                symmetric: symmetric, queue: qn)
            Ops.l2NormalizeBackward(dinp: draw.p, dout: dpn.p, out: pn.p, norms: norms.p, rows: bsz, columns: d)
            #expect(finiteDifferenceError(raw.p, count: bsz * d, analytic: draw.array, loss: loss) < 1e-4)
            #expect(finiteDifferenceError(logT.p, count: 1, analytic: dlogT.array, loss: loss) < 1e-4)
            #expect(probs.p[0 * n + cols + 1] == 0 && probs.p[2 * n + cols + 3] == 0 && probs.p[1 * n + 3] == 0)
            #expect(probs.p[0 * n + cols + 3] > 0 && probs.p[1 * n + cols + 1] > 0)
        }
    }

    /// B predictions with K queued targets give the loss and gradient of the plain in-batch op over
    /// B + K target columns (the K extra rows have no prediction, so they add only negatives), with
    /// the queue's group mask written out as the big batch's `exclude`.
    @Test(arguments: [false, true])
    func queueEqualsOneBigBatch(symmetric: Bool) {
        var rng = TrainingRNG(seed: 40)
        let bsz = 4, k = 6, d = 5
        let targets = Self.unitRows(bsz, d, &rng), queued = Self.unitRows(k, d, &rng)
        let rowGroups = [1, 2, 3, 4], queueGroups = [9, 2, 8, 7, 4, 6]  // two entries share a row's group
        let q = Self.queue(queued, dim: d, groups: queueGroups)
        let raw = randomValues(bsz * d, &rng)
        var bigMask = [UInt8](repeating: 0, count: bsz * (bsz + k))
        for i in 0..<bsz { for j in 0..<k where queueGroups[j] == rowGroups[i] { bigMask[i * (bsz + k) + bsz + j] = 1 } }
        let withQueue = Self.runOp(raw: raw, targets: targets, exclude: nil, queue: q, rowGroups: rowGroups,
                                   bsz: bsz, cols: bsz, d: d, logT: Double.logarithm(0.2), symmetric: symmetric)
        let big = Self.runOp(raw: raw, targets: targets + queued, exclude: bigMask, queue: nil, rowGroups: rowGroups,
                             bsz: bsz, cols: bsz + k, d: d, logT: Double.logarithm(0.2), symmetric: symmetric)
        #expect(abs(withQueue.loss - big.loss) < 1e-12, "\(withQueue.loss) vs \(big.loss)")
        #expect(Self.maxDiff(withQueue.dpred, big.dpred) < 1e-12)
        #expect(abs(withQueue.dlogT - big.dlogT) < 1e-12)
        // …and the queue did change the loss (it is not a no-op).
        let noQueue = Self.runOp(raw: raw, targets: targets, exclude: nil, queue: nil, rowGroups: rowGroups,
                                 bsz: bsz, cols: bsz, d: d, logT: Double.logarithm(0.2), symmetric: symmetric)
        #expect(withQueue.loss > noQueue.loss + 1e-3)
    }

    /// The same equality through both student models (every parameter's gradient), with hard negatives in the batch too.
    @Test(arguments: [ModelKind.mlp, .sigPredictor])
    func modelWithQueueEqualsModelWithBigBatch(_ kind: ModelKind) throws {
        var cfg = ModelConfig(kind: kind, inputDim: 5, outputDim: 4)
        cfg.dModel = 8; cfg.heads = 2; cfg.ffnDim = 12; cfg.layers = 1; cfg.mlpHidden = 7; cfg.dropout = 0; cfg.temperatureInit = 0.3
        let a = try StudentModel<Double>(config: cfg, seed: 3), b = try StudentModel<Double>(config: cfg, seed: 3)
        var rng = TrainingRNG(seed: 41)
        let offsets = [0, 2, 3, 6], bsz = 3, d = 4, k = 5
        let tokens = randomValues(6 * 5, &rng)
        let targets = Self.unitRows(bsz + 1, d, &rng), queued = Self.unitRows(k, d, &rng)  // one hard negative column
        let rowGroups = [0, 1, 2], queueGroups = [7, 1, 8, 0, 9]
        let cols = bsz + 1, big = cols + k
        var mask = [UInt8](repeating: 0, count: bsz * cols)
        mask[2 * cols + 3] = 1
        var bigMask = [UInt8](repeating: 0, count: bsz * big)
        for i in 0..<bsz {
            for j in 0..<cols { bigMask[i * big + j] = mask[i * cols + j] }
            for j in 0..<k where queueGroups[j] == rowGroups[i] { bigMask[i * big + cols + j] = 1 }
        }
        let q = Self.queue(queued, dim: d, groups: queueGroups, capacity: 8)
        let la = try a.forward(Batch(tokens: tokens, offsets: offsets, targets: targets, exclude: mask, groups: rowGroups),
                               training: true, negatives: q)
        a.backward()
        let lb = try b.forward(Batch(tokens: tokens, offsets: offsets, targets: targets + queued, exclude: bigMask), training: true)
        b.backward()
        #expect(abs(la - lb) < 1e-12, "\(la) vs \(lb)")
        let ga = Array(UnsafeBufferPointer(start: a.grads, count: a.parameterCount))
        let gb = Array(UnsafeBufferPointer(start: b.grads, count: b.parameterCount))
        #expect(Self.maxDiff(ga, gb) < 1e-12)
        #expect(ga[a.logTemperatureOffset] != 0)
        // The queue needs the rows' groups.
        #expect(throws: TrainingError.self) {
            try a.forward(Batch(tokens: tokens, offsets: offsets, targets: targets), training: true, negatives: q)
        }
    }

    /// Entries of a row's own group — a duplicate, the function's own earlier copy — are not its
    /// negatives: the loss equals the loss with those entries left out (fails without the mask).
    /// Rows 0 and 1 are duplicates of each other (group 20), so every group-20 entry is masked for both.
    @Test func duplicatesInTheQueueAreMasked() {
        var rng = TrainingRNG(seed: 42)
        let bsz = 2, d = 5
        let targets = Self.unitRows(bsz, d, &rng), other = Self.unitRows(2, d, &rng)
        let raw = randomValues(bsz * d, &rng), rowGroups = [20, 20], inBatch: [UInt8] = [0, 1, 1, 0]
        // Entry 0: another duplicate of the rows (another vector, same group); entry 1: row 1's own target; entry 2: unrelated.
        let dup = Array(other[0..<d]), ownRow1 = Array(targets[d..<(2 * d)]), unrelated = Array(other[d..<(2 * d)])
        let full = Self.queue(dup + ownRow1 + unrelated, dim: d, groups: [20, 20, 30])
        let kept = Self.queue(unrelated, dim: d, groups: [30])
        for symmetric in [false, true] {
            let a = Self.runOp(raw: raw, targets: targets, exclude: inBatch, queue: full, rowGroups: rowGroups,
                               bsz: bsz, cols: bsz, d: d, logT: Double.logarithm(0.1), symmetric: symmetric)
            let b = Self.runOp(raw: raw, targets: targets, exclude: inBatch, queue: kept, rowGroups: rowGroups,
                               bsz: bsz, cols: bsz, d: d, logT: Double.logarithm(0.1), symmetric: symmetric)
            #expect(abs(a.loss - b.loss) < 1e-12, "masked entries changed the loss: \(a.loss) vs \(b.loss)")
            #expect(Self.maxDiff(a.dpred, b.dpred) < 1e-12)
            #expect(abs(a.dlogT - b.dlogT) < 1e-12)
        }
        // Under other groups, the same entries do change the loss.
        let foreign = Self.queue(dup + ownRow1 + unrelated, dim: d, groups: [40, 41, 30])
        let c = Self.runOp(raw: raw, targets: targets, exclude: inBatch, queue: foreign, rowGroups: rowGroups,
                           bsz: bsz, cols: bsz, d: d, logT: Double.logarithm(0.1), symmetric: false)
        let b = Self.runOp(raw: raw, targets: targets, exclude: inBatch, queue: kept, rowGroups: rowGroups,
                           bsz: bsz, cols: bsz, d: d, logT: Double.logarithm(0.1), symmetric: false)
        #expect(c.loss > b.loss + 1e-3)
    }

    @Test func ringBufferIsFIFOAndItsStateRestores() throws {
        let d = 2
        let rows: [Double] = (0..<10).map(Double.init)  // function f's row is [2f, 2f + 1]
        let q = NegativeQueue<Double>(capacity: 3, dim: d)
        #expect(q.count == 0 && q.state == NegativeQueueState(functions: [], head: 0))
        rows.withUnsafeBufferPointer { p in
            for f in 0..<5 { q.enqueue(row: p.baseAddress! + f * d, function: f, group: f % 2) }
        }
        #expect(q.count == 3 && q.head == 2)
        #expect(q.state == NegativeQueueState(functions: [3, 4, 2], head: 2))  // slot order; slot 2 is the oldest
        #expect(q.entry(0).values == [6, 7] && q.entry(0).group == 1 && q.entry(2).function == 2)
        let r = NegativeQueue<Double>(capacity: 3, dim: d)
        try rows.withUnsafeBufferPointer { p in
            try r.restore(q.state, targets: p.baseAddress!, groups: [0, 1, 0, 1, 0])
            #expect(r.state == q.state && (0..<3).allSatisfy { r.entry($0) == q.entry($0) })
            #expect(throws: TrainingError.self) { try r.restore(NegativeQueueState(functions: [1, 2], head: 0), targets: p.baseAddress!, groups: [0, 1, 0]) }
            #expect(throws: TrainingError.self) { try r.restore(NegativeQueueState(functions: [7], head: 1), targets: p.baseAddress!, groups: [0, 1, 0]) }
        }
        q.removeAll()
        #expect(q.count == 0 && q.head == 0)
    }

    /// After a run the trainer's queue holds the last `queueSize` trained functions' normalised
    /// targets and groups, newest = the last batch, in batch order.
    @Test func trainerQueueHoldsTheLastTrainedFunctions() throws {
        let data = try syntheticData(count: 200)
        var m = ModelConfig(kind: .mlp, inputDim: 16, outputDim: 16)
        m.mlpHidden = 32; m.dropout = 0
        var c = TrainingConfig(model: m)
        c.batchSize = 16; c.epochs = 2; c.patience = 0; c.queueSize = 40
        let t = try Trainer(config: c, data: data)
        let r = try t.run()
        #expect(r.epochs.count == 2 && r.epochs.allSatisfy { $0.trainLoss.isFinite })
        let q = try #require(t.negativeQueue)
        #expect(q.count == 40)
        let train = Set(t.split.train)
        for slot in 0..<q.count {
            let e = q.entry(slot)
            #expect(train.contains(e.function) && e.group == data.duplicateGroups[e.function])
            #expect(e.values == Array(t.normalizedTargets[(e.function * 16)..<((e.function + 1) * 16)]))
        }
        var order = t.split.train
        var rng = TrainingRNG(seed: c.seed, stream: 1000 + 1)
        rng.shuffle(&order)
        let spe = t.stepsPerEpoch
        let lastBatch = Array(order[((spe - 1) * 16)..<(spe * 16)])
        let newest = (0..<16).map { q.functions[(q.head - 16 + $0 + q.capacity) % q.capacity] }
        #expect(newest == lastBatch)
    }

    @Test func queueSizeIsValidated() throws {
        var c = TrainingConfig(model: ModelConfig(kind: .mlp, inputDim: 4, outputDim: 4))
        c.queueSize = TrainingConfig.maxQueueSize
        try c.validate()
        c.queueSize = TrainingConfig.maxQueueSize + 1
        #expect(throws: TrainingError.self) { try c.validate() }
        c.queueSize = -1
        #expect(throws: TrainingError.self) { try c.validate() }
        c.queueSize = 16; c.model.loss = .smoothL1
        #expect(throws: TrainingError.self) { try c.validate() }
        // Config files without the field (older checkpoints) decode with the queue off.
        let old = try JSONDecoder().decode(TrainingConfig.self, from: Data(#"{"model":{"kind":"mlp"},"batchSize":8}"#.utf8))
        #expect(old.queueSize == 0 && old.batchSize == 8)
    }
}
