import Foundation
import Tensor
import Training

/// Peak resident memory of this process (VmHWM), in MiB.
private func peakResidentMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? .nan
        return kb / 1024
    }
    return .nan
}

/// `Bench training [--steps N] [--batch B] [--tokens T] [--layers N] [--queue K] [--mlp | --token-decoder [--target-tokens T']]`:
/// one sig_predictor (or, with `--mlp`, mean-pool MLP with a 1024 hidden layer; with `--token-decoder`, the
/// same encoder plus one cross-attention decoder block over T' = 64 body-token queries and the per-token cosine loss) training step (forward, backward, clipping, AdamW) at the default size — D = 384 in/out (MiniLM),
/// d_model 512, 8 heads, FFN 2048, 2 blocks, InfoNCE over the batch (plus a full negative queue of K
/// entries, then the batch enqueued, when K > 0), dropout 0.1 — timed over a few steps.
/// GFLOP/s counts the matrix products of forward + backward (Linear: 2·n·in·out forward, twice that
/// backward; attention: 4·L²·d forward, 8·L²·d backward per sequence; InfoNCE logits); elementwise
/// ops are not counted. The sgemm column is measured on the same (m×n×k) shapes, FLOP-weighted.
func benchTraining(_ args: [String]) async throws {
    func arg(_ name: String, _ def: Int) -> Int {
        if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) { return v }
        return def
    }
    let steps = arg("--steps", 5), bsz = arg("--batch", 64), tlen = arg("--tokens", 32), layers = arg("--layers", 2)
    let queueSize = arg("--queue", 0), mlp = args.contains("--mlp"), tokenDecoder = args.contains("--token-decoder")
    let ttok = arg("--target-tokens", 64)
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
    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
    let sgemmBefore = sgemmOnShapes()
    var times: [Double] = []
    for _ in 0..<steps {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try trainStep()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    let best = times.min()!, median = times.sorted()[times.count / 2]
    // The sgemm reference is measured before and after the steps; the higher (the peak) is kept.
    let sgemmRate = max(sgemmBefore, sgemmOnShapes())
    let achieved = flops / best / 1e9
    let shape = mlp ? "mlp training step (D 384, hidden \(cfg.mlpHidden)"
        : tokenDecoder ? "token_decoder training step (D 384, d_model \(d), 8 heads, FFN \(ffn), \(layers) blocks + 1 decoder block over \(ttok) target tokens"
        : "sig_predictor training step (D 384, d_model \(d), 8 heads, FFN \(ffn), \(layers) blocks"
    print("| \(shape), batch \(bsz) × \(tlen) tokens, negative queue \(queueSize), BLAS threads \(BLAS.threads)) | value |")
    print("|---|---|")
    print("| parameters | \(model.parameterCount) |")
    print("| load average at start (2 cores) | \(load) |")
    print("| step time, best / median of \(steps) | \(String(format: "%.3f / %.3f s", best, median)) |")
    print("| training examples/s (best step) | \(String(format: "%.1f", Double(bsz) / best)) |")
    print("| tokens/s | \(String(format: "%.0f", Double(ntok) / best)) |")
    print("| FLOP per step (fwd+bwd matmuls) | \(String(format: "%.1f G", flops / 1e9)) |")
    print("| achieved GFLOP/s | \(String(format: "%.1f", achieved)) |")
    print("| sgemm GFLOP/s on the same shapes | \(String(format: "%.1f", sgemmRate)) |")
    print("| achieved / sgemm | \(String(format: "%.0f %%", 100 * achieved / sgemmRate)) |")
    print("| peak memory (VmHWM) | \(String(format: "%.0f MiB", peakResidentMiB())) |")
}
