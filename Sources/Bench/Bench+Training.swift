import Foundation
import Tensor
import Training


/// `Bench training [--steps N] [--batch B] [--tokens T] [--layers N] [--queue K] [--mlp | --token-decoder [--target-tokens T']]
/// [--torch PYTHON [--rounds R]]`:
/// one sig_predictor (or, with `--mlp`, mean-pool MLP with a 1024 hidden layer; with `--token-decoder`, the
/// same encoder plus one cross-attention decoder block over T' = 64 body-token queries and the per-token cosine loss) training step (forward, backward, clipping, AdamW) at the default size — D = 384 in/out (MiniLM),
/// d_model 512, 8 heads, FFN 2048, 2 blocks, InfoNCE over the batch (plus a full negative queue of K
/// entries, then the batch enqueued, when K > 0), dropout 0.1 — timed over a few steps.
/// GFLOP/s counts the matrix products of forward + backward (Linear: 2·n·in·out forward, twice that
/// backward; attention: 4·L²·d forward, 8·L²·d backward per sequence; InfoNCE logits); elementwise
/// ops are not counted. The sgemm column is measured on the same (m×n×k) shapes, FLOP-weighted.
/// With `--torch PYTHON` (sig_predictor, no queue), `scripts/reference/training_torch.py` runs the same
/// model, loss, optimiser, shapes and thread count in PyTorch beside it: R rounds (default 3) of N of our
/// steps, then N of PyTorch's, alternating, so both columns see the same machine load.
func benchTraining(_ args: [String]) async throws {
    func arg(_ name: String, _ def: Int) -> Int {
        if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) { return v }
        return def
    }
    let steps = arg("--steps", 5), bsz = arg("--batch", 64), tlen = arg("--tokens", 32), layers = arg("--layers", 2)
    let queueSize = arg("--queue", 0), mlp = args.contains("--mlp"), tokenDecoder = args.contains("--token-decoder")
    let ttok = arg("--target-tokens", 64), rounds = max(1, arg("--rounds", 3))
    func argString(_ name: String) -> String? {
        args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
    }
    let din = 384, dout = 384, d = 512, ffn = 2048
    var cfg = ModelConfig(kind: .sigPredictor, inputDim: din, outputDim: dout)
    cfg.dModel = d; cfg.heads = 8; cfg.ffnDim = ffn; cfg.layers = layers; cfg.dropout = 0.1; cfg.loss = .infoNCE
    if mlp { cfg.kind = .mlp; cfg.mlpHidden = 1024 }
    if tokenDecoder { cfg.kind = .tokenDecoder; cfg.maxTargetTokens = ttok; cfg.decoderLayers = 1 }
    let model = try StudentModel<Float>(config: cfg, seed: 1)
    let opt = AdamW<Float>(layout: model.layout)
    var rng = TrainingRNG(seed: 2)
    let ntok = bsz * tlen
    let tokens = (0..<(ntok * din)).map { _ in Float(rng.normal()) }
    var targets = (0..<(bsz * dout)).map { _ in Float(rng.normal()) }
    for r in 0..<bsz {
        let s = (0..<dout).map { targets[r * dout + $0] * targets[r * dout + $0] }.reduce(0, +).squareRoot()
        for j in 0..<dout { targets[r * dout + j] /= s }
    }
    let nqt = bsz * ttok
    var targetTokens = tokenDecoder ? (0..<(nqt * dout)).map { _ in Float(rng.normal()) } : []
    if tokenDecoder { targetTokens = centreAndNormalize(targetTokens, dim: dout, mean: [Float](repeating: 0, count: dout)) }
    let batch = Batch<Float>(tokens: tokens, offsets: (0...bsz).map { $0 * tlen }, targets: targets,
                             groups: Array(0..<bsz), targetTokens: targetTokens,
                             targetTokenOffsets: tokenDecoder ? (0...bsz).map { $0 * ttok } : nil)
    // A full queue: the batch's targets over and over, under groups no batch row has.
    let queue = queueSize > 0 ? NegativeQueue<Float>(capacity: queueSize, dim: dout) : nil
    if let queue {
        targets.withUnsafeBufferPointer { t in
            for k in 0..<queueSize { queue.enqueue(row: t.baseAddress! + (k % bsz) * dout, function: k, group: bsz + k) }
        }
    }
    var step = 0
    func trainStep() throws {
        _ = try model.forward(batch, training: true, dropoutSeed: UInt64(step), negatives: queue)
        model.backward()
        Ops.clipGradientNorm(model.grads, count: model.parameterCount, maxNorm: 1)
        opt.step(params: model.params, grads: model.grads, learningRate: 1e-4, config: OptimizerConfig())
        if let queue {
            targets.withUnsafeBufferPointer { t in
                for r in 0..<bsz { queue.enqueue(row: t.baseAddress! + r * dout, function: step * bsz + r, group: bsz + queueSize + r) }
            }
        }
        step += 1
    }
    // FLOPs of one step, per GEMM shape (m, n, k).
    var shapes: [(m: Int, n: Int, k: Int)] = []
    func linear(_ n: Int, _ i: Int, _ o: Int, dinp: Bool = true) {
        shapes.append((n, o, i))            // forward y = x·Wᵀ
        if dinp { shapes.append((n, i, o)) } // dX = dY·W
        shapes.append((o, i, n))            // dW = dYᵀ·X
    }
    if mlp {
        linear(bsz, din, cfg.mlpHidden, dinp: false); linear(bsz, cfg.mlpHidden, dout)
    } else {
        linear(ntok, din, d, dinp: false)
        for _ in 0..<layers {
            linear(ntok, d, 3 * d); linear(ntok, d, d); linear(ntok, d, ffn); linear(ntok, ffn, d)
        }
        linear(bsz, d, dout)
        if tokenDecoder {
            // q, k|v (over the signature tokens), out_proj, FFN, token_proj.
            linear(nqt, d, d); linear(ntok, d, 2 * d); linear(nqt, d, d); linear(nqt, d, ffn); linear(nqt, ffn, d)
            linear(nqt, d, dout)
        }
    }
    let gemmFlops = shapes.reduce(0.0) { $0 + 2.0 * Double($1.m * $1.n * $1.k) }
    let attnFlops = mlp ? 0 : Double(layers) * Double(bsz) * 12 * Double(tlen * tlen * d)
        + (tokenDecoder ? Double(bsz) * 12 * Double(ttok * tlen * d) : 0)
    let lossFlops = 2 * 2 * Double(bsz * (bsz + queueSize) * dout)
    let flops = gemmFlops + attnFlops + lossFlops
    /// sgemm on the big shapes of this step: FLOP-weighted harmonic mean (the rate at which sgemm
    /// alone would do this step's large products).
    func sgemmOnShapes() -> Double {
        var time = 0.0, total = 0.0
        var measured: [String: Double] = [:]
        for s in shapes where s.m * s.n * s.k >= 1 << 24 {
            let key = "\(s.m)x\(s.n)x\(s.k)"
            let g = measured[key] ?? measureSgemmGFLOPS(m: s.m, n: s.n, k: s.k)
            measured[key] = g
            let f = 2.0 * Double(s.m * s.n * s.k)
            total += f
            time += f / (g * 1e9)
        }
        return total / time / 1e9
    }

    try trainStep()  // warm-up (allocations)
    // PyTorch side by side (sig_predictor at queue 0 only: the script has no queue, MLP or decoder).
    var torch: TorchTrainer?
    var torchNote: String?
    if let py = argString("--torch") {
        if mlp || tokenDecoder || queueSize > 0 {
            torchNote = "PyTorch column only for sig_predictor without a queue"
        } else {
            do { torch = try TorchTrainer(python: py, threads: BLAS.threads, batch: bsz, tokens: tlen, layers: layers) }
            catch { torchNote = "PyTorch column skipped: \(error)" }
        }
    }
    defer { torch?.close() }
    let load = BenchProcess.loadAverage()
    let sgemmBefore = sgemmOnShapes()
    var times: [Double] = [], torchTimes: [Double] = []
    // Rounds alternate: `steps` of ours, then `steps` of PyTorch's, so both see the same load.
    for _ in 0..<(torch == nil ? 1 : rounds) {
        for _ in 0..<steps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try trainStep()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        if let torch { torchTimes += try torch.steps(steps) }
    }
    // The sgemm reference is measured before and after the steps; the higher (the peak) is kept.
    let sgemmRate = max(sgemmBefore, sgemmOnShapes())
    let loadEnd = BenchProcess.loadAverage()
    let shape = mlp ? "mlp training step (D 384, hidden \(cfg.mlpHidden)"
        : tokenDecoder ? "token_decoder training step (D 384, d_model \(d), 8 heads, FFN \(ffn), \(layers) blocks + 1 decoder block over \(ttok) target tokens"
        : "sig_predictor training step (D 384, d_model \(d), 8 heads, FFN \(ffn), \(layers) blocks"
    if let torchNote { print("_\(torchNote)._\n") }
    print("OpenBLAS kernel: \(BLAS.coreName) (OPENBLAS_CORETYPE \(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset")).")
    print()
    let report = TrainingReport(batch: bsz, tokens: ntok, flops: flops, sgemm: sgemmRate, ours: times,
                                torch: torch == nil ? nil : torchTimes)
    let torchHeader = torch.map { " PyTorch \($0.version)\($0.mkl ? " (MKL)" : ""), \($0.threads) threads | ours / PyTorch |" } ?? ""
    print("| \(shape), batch \(bsz) × \(tlen) tokens, negative queue \(queueSize), BLAS threads \(BLAS.threads)) | \(torch == nil ? "value" : "ours") |\(torchHeader)")
    print(torch == nil ? "|---|---|" : "|---|---|---|---|")
    report.row("parameters", "\(model.parameterCount)", torch.map { "\($0.parameters)" }, nil)
    report.row("load average at start / end (2 cores)", "\(load) / \(loadEnd)", torch == nil ? nil : "(same run)", nil)
    report.printTimes(rounds: torch == nil ? 1 : rounds, steps: steps)
    report.row("peak memory (VmHWM)", String(format: "%.0f MiB", BenchProcess.memory().hwm), torch == nil ? nil : "–", nil)
}


/// The timing rows of `Bench training`: ours, and PyTorch's beside them with the ratio when it ran.
struct TrainingReport {
    let batch: Int, tokens: Int
    /// Matrix-product FLOP of one step and the sgemm rate on the same shapes (GFLOP/s).
    let flops: Double, sgemm: Double
    /// Seconds of each timed step.
    let ours: [Double], torch: [Double]?

    /// One table row; the PyTorch and ratio cells only when PyTorch ran.
    func row(_ label: String, _ ours: String, _ torch: String?, _ ratio: String?) {
        print("| \(label) | \(ours) |" + (self.torch == nil ? "" : " \(torch ?? "") | \(ratio ?? "") |"))
    }

    func printTimes(rounds: Int, steps: Int) {
        func best(_ t: [Double]) -> Double { t.min()! }
        func median(_ t: [Double]) -> Double {
            let s = t.sorted(), n = s.count
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
        }
        func f(_ v: Double, _ p: Int = 1) -> String { String(format: "%.\(p)f", v) }
        func both(_ g: (Double) -> String, _ t: [Double]?) -> String? { t.map { "\(g(best($0))) / \(g(median($0)))" } }
        let ratio = torch.map { t in "\(f(best(t) / best(ours), 2)) / \(f(median(t) / median(ours), 2))×" }
        let b = Double(batch)
        let n = rounds > 1 ? "\(ours.count) (\(rounds) rounds of \(steps), alternating)" : "\(ours.count)"
        row("step time, best / median of \(n)", both({ f($0, 3) }, ours)! + " s", both({ f($0, 3) }, torch).map { $0 + " s" }, nil)
        row("training examples/s, best / median step", both({ f(b / $0) }, ours)!, both({ f(b / $0) }, torch), ratio)
        row("tokens/s, best / median step", both({ f(Double(tokens) / $0, 0) }, ours)!, both({ f(Double(tokens) / $0, 0) }, torch), nil)
        row("FLOP per step (fwd+bwd matmuls)", String(format: "%.1f G", flops / 1e9), torch == nil ? nil : "same", nil)
        row("achieved GFLOP/s, best / median step", both({ f(flops / $0 / 1e9) }, ours)!, both({ f(flops / $0 / 1e9) }, torch), nil)
        row("sgemm GFLOP/s on the same shapes", f(sgemm), torch == nil ? nil : "(ours)", nil)
        row("achieved / sgemm, best / median step", both({ f(100 * flops / $0 / 1e9 / sgemm, 0) }, ours)! + " %",
            both({ f(100 * flops / $0 / 1e9 / sgemm, 0) }, torch).map { $0 + " %" }, nil)
    }
}
