import Foundation
import Core
import Tensor
import Teacher

/// `Bench decoder [--model PATH.gguf] [--threads N] [--cache DIR [--keep-cache]] [--layers L,L…]
/// [--ids DIR] [--repeats N] [--json PATH]`: forward throughput of the decoder teacher (default
/// SmolLM2-135M-Instruct; output head never computed) next to sgemm on the same shapes in the same
/// run, on `N` OpenBLAS threads (default 2), stopping at each layer of `--layers` in turn (default:
/// the last block only; the forward never computes blocks past the deepest layer asked for).
///
/// Loading: with `--cache DIR` (emptied first) the load is timed three ways, one model in memory at a
/// time: dequantising and writing the weight cache there, dequantising without a cache, then mapping
/// the cache (the model the forward uses). With `--keep-cache` as well, the folder is kept and the
/// model is loaded once through it: the first load when the folder is empty, a mapped one after that
/// (how `scripts/bench/decoder.sh` times later rounds).
///
/// Inputs: batches of 8 × 128 and 2 × 512 token ids from a fixed SplitMix64 stream. With `--ids DIR`
/// they are read from `DIR/ids-8x128.npy` and `DIR/ids-2x512.npy` (int64, [batch, tokens]) when those
/// exist and written there otherwise, so another program (`scripts/bench/decoder_torch.py`) runs the
/// very same ids. Each figure is the best of `--repeats` (default 2) timed forwards after a warm-up.
/// `--json PATH` also writes the figures as JSON for the side-by-side driver. Resident memory (VmRSS
/// after the load, VmHWM of the whole run) is printed last.
///
/// ```
/// .build/release/Bench decoder --threads 2 --cache /tmp/smollm2-cache
/// .build/release/Bench decoder --model .cache/models/Qwen2.5-Coder-0.5B-Instruct/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf \
///     --cache /tmp/qwen-cache --layers 12,24
/// ```
func benchDecoder(_ args: [String]) throws {
    func arg(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path = arg("--model") ?? root.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf").path
    BLAS.threads = Int(arg("--threads") ?? "") ?? 2
    let repeats = max(1, Int(arg("--repeats") ?? "") ?? 2)
    let cache = arg("--cache").map { URL(fileURLWithPath: $0) }
    let keepCache = args.contains("--keep-cache")
    if let cache, !keepCache { try? FileManager.default.removeItem(at: cache) }
    var loaded: DecoderModel?
    let loadTime = try bestTime(repeats: 1) { loaded = try DecoderModel.load(path: path, cacheDirectory: cache) }
    var load: [String: Any] = ["seconds": loadTime, "source": loaded?.weightSource.rawValue ?? "?"]
    if let cache, !keepCache {
        let firstSource = loaded?.weightSource.rawValue ?? "?"
        loaded = nil  // one model in memory at a time
        let plain = try bestTime(repeats: 1) { _ = try DecoderModel.load(path: path) }
        let cached = try bestTime(repeats: 1) { loaded = try DecoderModel.load(path: path, cacheDirectory: cache) }
        load = ["first_seconds": loadTime, "first_source": firstSource, "dequantise_seconds": plain,
                "cached_seconds": cached, "source": loaded?.weightSource.rawValue ?? "?"]
        print("load: dequantise \(String(format: "%.2f", plain)) s; dequantise + write cache \(String(format: "%.2f", loadTime)) s " +
              "(\(firstSource)); from cache \(String(format: "%.3f", cached)) s (\(loaded?.weightSource.rawValue ?? "?"))\n")
    }
    guard let model = loaded else { return }
    let afterLoad = BenchProcess.memory().rss
    let c = model.config
    let d = c.hiddenSize, ffn = c.intermediateSize, qkv = c.queryDim + 2 * c.kvDim
    let stops = (arg("--layers") ?? "").split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 && $0 <= c.layerCount }
    print("## Decoder teacher (\(model.name), \(c.architecture.rawValue), Float32 on OpenBLAS)\n")
    print("\(c.layerCount) blocks, \(d) dims, \(c.headCount)/\(c.kvHeadCount) heads, \(BLAS.threads) OpenBLAS threads on " +
          "\(ProcessInfo.processInfo.activeProcessorCount) cores; \(keepCache ? "load" : "first load") (\(load["first_source"] ?? model.weightSource.rawValue), " +
          "\(model.weightBytes >> 20) MiB): " +
          String(format: "%.2f s", loadTime) + ". sgemm measured in the same run on the same shapes.\n")
    print("| up to layer | forward batch | tokens/s | GFLOP/s | sgemm GFLOP/s, same shapes | share of sgemm |")
    print("|---|---|---|---|---|---|")
    var rows: [[String: Any]] = []
    for layers in stops.isEmpty ? [c.layerCount] : stops {
        for (b, t) in [(8, 128), (2, 512)] {
            let n = b * t
            let batch = try decoderBenchIDs(batch: b, tokens: t, vocabSize: c.vocabSize, directory: arg("--ids"))
            _ = try model.hiddenStates(batch: batch, layers: [layers])  // warm-up
            let time = try bestTime(repeats: repeats) { _ = try model.hiddenStates(batch: batch, layers: [layers]) }
            // Dense GEMMs per block (weights transposed, as in the forward) + causal attention 2·T²·qDim per sequence.
            let shapes = [(n, qkv, d), (n, d, c.queryDim), (n, 2 * ffn, d), (n, d, ffn)]
            let dense = shapes.reduce(0.0) { $0 + 2 * Double($1.0 * $1.1 * $1.2) }
            let attention = 2 * Double(t * t * c.queryDim * b)
            let flops = Double(layers) * (dense + attention)
            var sgemmTime = 0.0
            for (m, nn, k) in shapes { sgemmTime += 2 * Double(m * nn * k) / (measureSgemmGFLOPS(m: m, n: nn, k: k, transB: true) * 1e9) }
            sgemmTime = Double(layers) * (sgemmTime + attention / (measureSgemmGFLOPS(m: n, n: d, k: d, transB: true) * 1e9))
            let gflops = flops / time / 1e9, sgemm = flops / sgemmTime / 1e9
            print("| \(layers) of \(c.layerCount) | \(b) × \(t) tokens | \(Int(Double(n) / time)) | \(String(format: "%.1f", gflops)) | " +
                  "\(String(format: "%.1f", sgemm)) | \(Int((100 * gflops / sgemm).rounded()))% |")
            rows.append(["layers": layers, "batch": b, "tokens": t, "seconds": time, "tokens_per_s": Double(n) / time,
                         "flops": flops, "gflops": gflops, "sgemm_gflops": sgemm])
        }
    }
    let mem = BenchProcess.memory()
    print("\nresident memory: \(Int(afterLoad)) MiB after the load (\(model.weightSource.rawValue)), " +
          "\(Int(mem.rss)) MiB at the end, peak (VmHWM) \(Int(mem.hwm)) MiB")
    if let out = arg("--json") {
        let report: [String: Any] = ["model": model.name, "layer_count": c.layerCount, "threads": BLAS.threads, "repeats": repeats,
                                     "weight_mib": model.weightBytes >> 20, "load": load, "rows": rows,
                                     "rss_after_load_mib": afterLoad, "rss_end_mib": mem.rss, "hwm_mib": mem.hwm]
        try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]).write(to: URL(fileURLWithPath: out))
    }
}

/// The `batch` × `tokens` ids of one forward: read from `directory/ids-<batch>x<tokens>.npy` when that
/// file exists (int64 or int32, shape [batch, tokens], every id below `vocabSize`), else drawn from
/// SplitMix64 (seed = batch · 1,000,003 + tokens, id = next() mod vocabSize) and written there when a
/// directory is given.
private func decoderBenchIDs(batch b: Int, tokens t: Int, vocabSize: Int, directory: String?) throws -> [[Int32]] {
    let file = directory.map { URL(fileURLWithPath: $0).appendingPathComponent("ids-\(b)x\(t).npy") }
    if let file, let data = try? Data(contentsOf: file) {
        let array = try NPYArray(data: data)
        let ids = try array.int64s()
        guard array.shape == [b, t], ids.allSatisfy({ $0 >= 0 && $0 < vocabSize }) else {
            throw NPYError.badNPY("\(file.path): expected [\(b), \(t)] ids below \(vocabSize), got shape \(array.shape)")
        }
        return (0..<b).map { row in ids[(row * t)..<((row + 1) * t)].map { Int32($0) } }
    }
    var rng = SplitMix64(seed: UInt64(b * 1_000_003 + t))
    let ids = (0..<(b * t)).map { _ in Int64(rng.next() % UInt64(vocabSize)) }
    if let file {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try NPYArray(int64s: ids, shape: [b, t]).encoded().write(to: file, options: .atomic)
    }
    return (0..<b).map { row in ids[(row * t)..<((row + 1) * t)].map { Int32($0) } }
}

