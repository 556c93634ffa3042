import Foundation
import Tensor
import Teacher

/// `Bench decoder [--model PATH.gguf] [--threads N] [--cache DIR] [--layers L,L…]`: forward throughput
/// of the decoder teacher (default SmolLM2-135M-Instruct; output head never computed) next to sgemm on
/// the same shapes in the same run, on `N` OpenBLAS threads (default 2), stopping at each layer of
/// `--layers` in turn (default: the last block only; the forward never computes blocks past the
/// deepest layer asked for). With `--cache DIR` (emptied first) the load is timed three ways, one
/// model in memory at a time: dequantising and writing the weight cache there, dequantising without a
/// cache, then mapping the cache (the model the forward uses). Resident memory (VmRSS after the load,
/// VmHWM of the whole run) is printed last.
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
    let cache = arg("--cache").map { URL(fileURLWithPath: $0) }
    if let cache { try? FileManager.default.removeItem(at: cache) }
    var loaded: DecoderModel?
    let loadTime = try bestTime(repeats: 1) { loaded = try DecoderModel.load(path: path, cacheDirectory: cache) }
    var loadLine = ""
    if let cache {
        let firstSource = loaded?.weightSource.rawValue ?? "?"
        loaded = nil  // one model in memory at a time
        let plain = try bestTime(repeats: 1) { _ = try DecoderModel.load(path: path) }
        let cached = try bestTime(repeats: 1) { loaded = try DecoderModel.load(path: path, cacheDirectory: cache) }
        loadLine = "load: dequantise \(String(format: "%.2f", plain)) s; dequantise + write cache \(String(format: "%.2f", loadTime)) s " +
            "(\(firstSource)); from cache \(String(format: "%.3f", cached)) s (\(loaded?.weightSource.rawValue ?? "?"))\n"
        print(loadLine)
    }
    guard let model = loaded else { return }
    let afterLoad = decoderBenchMemory().rss
    let c = model.config
    let d = c.hiddenSize, ffn = c.intermediateSize, qkv = c.queryDim + 2 * c.kvDim
    let stops = (arg("--layers") ?? "").split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 && $0 <= c.layerCount }
    print("## Decoder teacher (\(model.name), \(c.architecture.rawValue), Float32 on OpenBLAS)\n")
    print("\(c.layerCount) blocks, \(d) dims, \(c.headCount)/\(c.kvHeadCount) heads, \(BLAS.threads) OpenBLAS threads on " +
          "\(ProcessInfo.processInfo.activeProcessorCount) cores; first load (GGUF → Float32, \(model.weightBytes >> 20) MiB): " +
          String(format: "%.2f s", loadTime) + ". sgemm measured in the same run on the same shapes.\n")
    print("| up to layer | forward batch | tokens/s | GFLOP/s | sgemm GFLOP/s, same shapes | share of sgemm |")
    print("|---|---|---|---|---|---|")
    for layers in stops.isEmpty ? [c.layerCount] : stops {
        for (b, t) in [(8, 128), (2, 512)] {
            let n = b * t
            var rng = SystemRandomNumberGenerator()
            let batch = (0..<b).map { _ in (0..<t).map { _ in Int32.random(in: 0..<Int32(c.vocabSize), using: &rng) } }
            _ = try model.hiddenStates(batch: batch, layers: [layers])  // warm-up
            let time = try bestTime(repeats: 2) { _ = try model.hiddenStates(batch: batch, layers: [layers]) }
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
        }
    }
    let mem = decoderBenchMemory()
    print("\nresident memory: \(Int(afterLoad)) MiB after the load (\(model.weightSource.rawValue)), " +
          "\(Int(mem.rss)) MiB at the end, peak (VmHWM) \(Int(mem.hwm)) MiB")
}

/// VmRSS / VmHWM of this process in MiB (from /proc/self/status; 0 where unreadable).
private func decoderBenchMemory() -> (rss: Double, hwm: Double) {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
    func field(_ name: String) -> Double {
        for line in s.split(separator: "\n") where line.hasPrefix(name) {
            return (line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0) / 1024
        }
        return 0
    }
    return (field("VmRSS:"), field("VmHWM:"))
}
