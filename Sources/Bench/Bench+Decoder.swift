import Foundation
import Tensor
import Teacher

/// `Bench decoder [--model PATH.gguf] [--threads N] [--cache DIR]`: forward throughput of the decoder
/// teacher (default SmolLM2-135M-Instruct, all blocks, output head never computed) next to sgemm on
/// the same shapes in the same run, on `N` OpenBLAS threads (default 2). With `--cache DIR` (emptied
/// first) the load is timed twice: dequantising and writing the weight cache there, then mapping it.
///
/// ```
/// .build/release/Bench decoder --threads 2 --cache /tmp/smollm2-cache
/// ```
func benchDecoder(_ args: [String]) throws {
    func arg(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path = arg("--model") ?? root.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf").path
    BLAS.threads = Int(arg("--threads") ?? "") ?? 2
    var loaded: DecoderModel?
    let cache = arg("--cache").map { URL(fileURLWithPath: $0) }
    if let cache { try? FileManager.default.removeItem(at: cache) }
    let loadTime = try bestTime(repeats: 1) { loaded = try DecoderModel.load(path: path, cacheDirectory: cache) }
    if let cache {
        let plain = try bestTime(repeats: 1) { _ = try DecoderModel.load(path: path) }
        var again: DecoderModel?
        let cached = try bestTime(repeats: 1) { again = try DecoderModel.load(path: path, cacheDirectory: cache) }
        print("load: dequantise \(String(format: "%.2f", plain)) s; dequantise + write cache \(String(format: "%.2f", loadTime)) s " +
              "(\(loaded?.weightSource.rawValue ?? "?")); from cache \(String(format: "%.3f", cached)) s (\(again?.weightSource.rawValue ?? "?"))\n")
    }
    guard let model = loaded else { return }
    let c = model.config
    let d = c.hiddenSize, ffn = c.intermediateSize, qkv = c.queryDim + 2 * c.kvDim, layers = c.layerCount
    print("## Decoder teacher (\(model.name), \(c.architecture.rawValue), Float32 on OpenBLAS)\n")
    print("\(layers) blocks, \(d) dims, \(c.headCount)/\(c.kvHeadCount) heads, \(BLAS.threads) OpenBLAS threads on " +
          "\(ProcessInfo.processInfo.activeProcessorCount) cores; load (GGUF → Float32, \(model.weightBytes >> 20) MiB): " +
          String(format: "%.2f s", loadTime) + ". sgemm measured in the same run on the same shapes.\n")
    print("| forward batch | tokens/s | GFLOP/s | sgemm GFLOP/s, same shapes | share of sgemm |")
    print("|---|---|---|---|---|")
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
        print("| \(b) × \(t) tokens | \(Int(Double(n) / time)) | \(String(format: "%.1f", gflops)) | " +
              "\(String(format: "%.1f", sgemm)) | \(Int((100 * gflops / sgemm).rounded()))% |")
    }
}
