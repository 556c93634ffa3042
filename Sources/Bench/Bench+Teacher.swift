import struct Core.SplitMix64
import enum Core.SpaceKind
import Foundation
import Tensor
import Teacher
import Corpus

/// `Bench teacher [--model DIR] [--functions N|all] [--stdlib DIR] [--layer L]`: forward-pass throughput
/// of the built-in teacher next to sgemm on the same shapes, and the time to embed standard-library
/// functions (one layer, all four kinds; a random sample of N = 512 by default), extrapolated to all
/// of the standard library's functions.
func benchTeacher(_ args: [String]) async throws {
    func arg(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let modelDir = URL(fileURLWithPath: arg("--model") ?? ProcessInfo.processInfo.environment["SWEJEPA_MODEL_DIR"]
                       ?? root.appendingPathComponent(".cache/models/all-MiniLM-L6-v2").path)
    let sampleArg = arg("--functions") ?? "512"
    let sample = sampleArg == "all" ? Int.max : (Int(sampleArg) ?? 512)
    let layer = Int(arg("--layer") ?? "") ?? 3

    var model: BertModel! = nil
    let loadTime = try bestTime(repeats: 1) { model = try BertModel.load(directory: modelDir) }
    let cfg = model.config
    let d = cfg.hiddenSize, ffn = cfg.intermediateSize
    print("## Teacher (built-in BERT forward on OpenBLAS)\n")
    print("Command: `scripts/bench/teacher.sh` (release build). Model \(model.name): \(cfg.numHiddenLayers) layers, " +
          "\(d) dims, \(BLAS.threads) OpenBLAS threads + Dispatch on \(ProcessInfo.processInfo.activeProcessorCount) cores. " +
          "The sgemm column is measured in the same run, so a busy machine slows both alike.\n")
    print("Model load (mmap safetensors → Float32): \(String(format: "%.2f", loadTime)) s\n")

    // 1. Forward pass on a full batch: 32 sequences × 128 tokens (4096 tokens, as the sgemm shapes).
    print("| forward batch | tokens/s | GFLOP/s | sgemm GFLOP/s, same shapes | ratio |")
    print("|---|---|---|---|---|")
    for (b, t) in [(32, 128), (8, 512), (128, 32)] {
        let n = b * t
        var rng = SystemRandomNumberGenerator()
        let batch = (0..<b).map { _ in [Int32(101)] + (0..<(t - 2)).map { _ in Int32.random(in: 1000..<29000, using: &rng) } + [102] }
        _ = try model.hiddenStates(batch: batch, layers: [cfg.numHiddenLayers])  // warm-up
        let time = try bestTime { _ = try model.hiddenStates(batch: batch, layers: [cfg.numHiddenLayers]) }
        let flops = Double(n) * cfg.flopsPerToken(sequenceLength: t)
        // The same work at sgemm speed: the four dense GEMMs per layer (weights used transposed, as
        // in the forward) plus attention's 4·T²·D per sequence at the 4096×384×384 rate.
        let shapes = [(n, 3 * d, d), (n, d, d), (n, ffn, d), (n, d, ffn)]
        var sgemmTime = 0.0
        for (m, nn, k) in shapes {
            sgemmTime += Double(2 * m * nn * k) / (measureSgemmGFLOPS(m: m, n: nn, k: k, transB: true) * 1e9)
        }
        sgemmTime *= Double(cfg.numHiddenLayers)
        let attentionFlops = Double(cfg.numHiddenLayers) * 4 * Double(t * t * d * b)
        sgemmTime += attentionFlops / (measureSgemmGFLOPS(m: n, n: d, k: d, transB: true) * 1e9)
        let gflops = flops / time / 1e9, sgemm = flops / sgemmTime / 1e9
        print("| \(b) × \(t) tokens | \(Int(Double(n) / time)) | \(String(format: "%.1f", gflops)) | \(String(format: "%.1f", sgemm)) | \(Int((100 * gflops / sgemm).rounded()))% |")
    }
    print("\nFLOPs counted per token: 2·(4·D² + 2·D·FFN) per layer for the dense layers plus 4·T·D for attention " +
          "(\(String(format: "%.1f", cfg.flopsPerToken(sequenceLength: 128) / 1e6)) MFLOP at T = 128).\n")

    // 2. Standard-library functions, one layer, all four kinds.
    let (stdlibRoot, functions) = stdlibFunctions(directory: arg("--stdlib"))
    guard !functions.isEmpty else { print("_no Python standard library found; pass --stdlib DIR_"); return }
    var rng = SeededGenerator(seed: 5)
    let picked = Array(functions.shuffled(using: &rng).prefix(sample))
    let embedder = FunctionEmbedder(model: model)
    var tokens = 0
    for f in picked {
        tokens += model.tokenizer.encode(f.signature, maxLength: 512).count
        tokens += model.tokenizer.encode(FunctionEmbedder.joinedText(f).text, maxLength: 512).count
        tokens += model.tokenizer.encode(f.body, maxLength: 512).count
    }
    // Tokenizer alone (3 texts per function, as the embedder does).
    let tokTime = bestTime(repeats: 2) {
        for f in picked {
            _ = model.tokenizer.encode(f.signature, maxLength: 512)
            _ = model.tokenizer.encode(FunctionEmbedder.joinedText(f).text, maxLength: 512)
            _ = model.tokenizer.encode(f.body, maxLength: 512)
        }
    }
    var results: [FunctionEmbedding] = []
    let t0 = DispatchTime.now().uptimeNanoseconds, cpu0 = processCPUSeconds()
    results = try embedder.embed(functions: picked, layers: [layer], kinds: Set(SpaceKind.defaultEmbedKinds), batchSize: 64)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9, cpu = processCPUSeconds() - cpu0
    let truncated = results.filter { $0.truncated.values.contains(true) }.count
    let perFunction = seconds / Double(picked.count)
    print("| standard-library functions (layer \(layer), 4 kinds, max 512 tokens) | value |")
    print("|---|---|")
    print("| functions embedded (random sample of the \(functions.count) that `CorpusScanner` finds under `\(stdlibRoot)`) | \(picked.count) |")
    print("| forward passes / tokens (encoder layers run: \(layer) of \(cfg.numHiddenLayers)) | \(3 * picked.count) / \(tokens) |")
    print("| time (process CPU time) | \(String(format: "%.1f", seconds)) s (\(String(format: "%.1f", cpu)) s) |")
    print("| tokenizer alone, one thread | \(Int(Double(tokens) / tokTime)) tokens/s |")
    print("| functions/s | \(String(format: "%.1f", 1 / perFunction)) |")
    print("| tokens/s (all passes, incl. tokenization) | \(Int(Double(tokens) / seconds)) |")
    print("| functions truncated at 512 tokens | \(truncated) |")
    let bodyTokens = results.reduce(0) { $0 + ($1.tokenCounts[.bodyMean] ?? 0) }
    print("| body tokens per function, mean (`body_tokens` float16: 2 × \(d) bytes each) | " +
          "\(String(format: "%.1f", Double(bodyTokens) / Double(max(1, picked.count)))) |")
    let total = Double(functions.count)
    print("| extrapolated: all \(functions.count) standard-library functions | \(String(format: "%.0f", total * perFunction)) s (\(String(format: "%.1f", total * perFunction / 60)) min) |")
    print("\nReference (FACTS.md): PyTorch 2.15 CPU via sentence-transformers, 2 threads, batches of 32, max 256 tokens, " +
          "one pass per function: **5,250 tokens/s, 46 functions/s (~110 GFLOP/s)**.")
}

func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Functions of the Python standard library through the Corpus module (as the corpus bench:
/// test directories and site-packages skipped). The root: `--stdlib DIR`, else Python's
/// `sysconfig` stdlib path, else the first /usr/lib/python3.* found.
func stdlibFunctions(directory: String?) -> (root: String, functions: [FunctionText]) {
    var candidates = [directory].compactMap { $0 }
    if candidates.isEmpty {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        if (try? p.run()) != nil {
            p.waitUntilExit()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if p.terminationStatus == 0, !out.isEmpty { candidates.append(out) }
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []
        candidates += names.filter { $0.hasPrefix("python3.") }.sorted().reversed().map { "/usr/lib/\($0)" }
    }
    var options = CorpusScanner.Options()
    options.skipDirectoryNames = ["test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"]
    for dir in candidates {
        guard let scan = try? CorpusScanner.scan(root: URL(fileURLWithPath: dir), options: options),
              scan.functions.count > 1000 else { continue }
        return (dir, scan.functions.map { FunctionText(signature: $0.signature, body: $0.body) })
    }
    return ("", [])
}

/// Deterministic sampling for the bench.
typealias SeededGenerator = SplitMix64
