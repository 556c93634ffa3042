import Foundation
import Testing
import Tensor
import TestSupport
@testable import Training

/// A synthetic corpus: inputs are random token matrices, each target a fixed random linear map of
/// the function's mean token plus noise, so the task is learnable but nothing is hard-coded.
func syntheticData(count n: Int = 480, dim: Int = 16, repos: Int = 24, noise: Float = 0.05, seed: UInt64 = 5) throws -> TrainingData {
    var rng = TrainingRNG(seed: seed)
    let map = (0..<(dim * dim)).map { _ in Float(rng.normal() / Double(dim).squareRoot()) }
    var tokens: [Float] = [], offsets = [0], targets: [Float] = [], sigMean: [Float] = []
    for _ in 0..<n {
        let l = 1 + Int(rng.next() % 6)
        var mean = [Float](repeating: 0, count: dim)
        for _ in 0..<l {
            for k in 0..<dim { let v = Float(rng.normal()); tokens.append(v); mean[k] += v / Float(l) }
        }
        offsets.append(offsets.last! + l)
        for i in 0..<dim {
            var s: Float = 0
            for k in 0..<dim { s += map[i * dim + k] * mean[k] }
            targets.append(s + noise * Float(rng.normal()))
        }
        sigMean += mean
    }
    let repositories = (0..<n).map { ($0 * 7) % repos }
    let groups = (0..<n).map { $0 % 50 == 1 ? $0 - 1 : $0 }  // a few duplicate pairs
    return try TrainingData(inputDim: dim, targetDim: dim, tokens: tokens, offsets: offsets, targets: targets,
                            repositories: repositories, duplicateGroups: groups, signatureMeans: sigMean)
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}

final class NameLog: @unchecked Sendable {
    private let lock = NSLock()
    private var names: Set<String> = []
    private var values: [String: [Double]] = [:]
    func add(_ n: String, _ v: Double = .nan) { lock.lock(); names.insert(n); values[n, default: []].append(v); lock.unlock() }
    var all: Set<String> { lock.lock(); defer { lock.unlock() }; return names }
    func values(_ n: String) -> [Double] { lock.lock(); defer { lock.unlock() }; return values[n] ?? [] }
}

func temporaryDirectory(_ name: String) -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("swejepa-training-\(name)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

/// Serialized: two tests change the OpenBLAS thread count, which partitions the parallel loops.
@Suite(.ownThreads, .serialized) struct TrainerTests {
    func smallConfig(_ kind: ModelKind, _ loss: LossKind) -> TrainingConfig {
        var m = ModelConfig(kind: kind, inputDim: 16, outputDim: 16)
        m.dModel = 32; m.heads = 4; m.ffnDim = 64; m.layers = 1; m.mlpHidden = 64; m.loss = loss; m.dropout = 0
        var c = TrainingConfig(model: m)
        c.batchSize = 32; c.epochs = 12; c.seed = 3; c.patience = 0
        c.optimizer.learningRate = 3e-3; c.optimizer.warmupSteps = 5
        return c
    }

    @Test func splitIsByRepositoryAndDeterministic() throws {
        let repos = (0..<1000).map { ($0 * 13) % 37 }
        let a = try DataSplit.byRepository(repos, seed: 1), b = try DataSplit.byRepository(repos, seed: 1)
        let c = try DataSplit.byRepository(repos, seed: 2)
        #expect(a == b)
        #expect(a != c)
        #expect((a.train + a.validation + a.test).sorted() == Array(0..<1000))
        let parts = [a.train, a.validation, a.test].map { Set($0.map { repos[$0] }) }
        #expect(parts[0].isDisjoint(with: parts[1]) && parts[0].isDisjoint(with: parts[2]) && parts[1].isDisjoint(with: parts[2]))
        #expect(abs(Double(a.train.count) / 1000 - 0.8) < 0.05)
        #expect(!a.validation.isEmpty && !a.test.isEmpty)
        #expect(throws: (any Error).self) { try DataSplit.byRepository([1, 1, 2], seed: 0) }
    }

    @Test func infoNCETrainingLearnsTheSyntheticTask() throws {
        let data = try syntheticData()
        let names = NameLog()
        let hooks = TrainingHooks(onMetric: { _, name, value in names.add(name, value) })
        let t = try Trainer(config: smallConfig(.sigPredictor, .infoNCE), data: data, hooks: hooks)
        let r = try t.run()
        #expect(r.epochs.count == 12)
        #expect(r.epochs.last!.trainLoss < 0.5 * r.epochs.first!.trainLoss, "\(r.epochs.map(\.trainLoss))")
        #expect(r.test.rank10 > 0.6, "test \(r.test)")
        #expect(r.test.rank10 > 5 * r.randomBaseline.rank10 + 0.1)
        #expect(r.test.mrr > r.randomBaseline.mrr)
        #expect(names.all.isSuperset(of: ["train/loss", "train/lr", "train/temperature", "train/examples_per_second",
                                           "val/rank10", "test/rank10", "baseline_random/rank10", "baseline_sig_mean/rank10"]))
        #expect(r.trainCount + r.validationCount + r.testCount == data.count)
        #expect(r.trainCount == t.split.train.count && r.validationCount == t.split.validation.count && r.testCount == t.split.test.count)

        // Every reported figure recomputed here in Double from the data, the split and the model's
        // predictions: the test metrics, and the sig_mean baseline (signature means centred on their
        // train mean, ranked among the centred, normalised targets).
        let database = naiveCentredUnitRows(data.targets, dim: data.targetDim, meanOver: t.split.train)
        let groups = data.duplicateGroups
        let predictions = try t.predict(t.split.test)
        let predRows = (0..<t.split.test.count).map { i in (0..<data.targetDim).map { Double(predictions[i * data.targetDim + $0]) } }
        let wantTest = naiveRankMetrics(queries: predRows, truth: t.split.test, database: database, groups: groups)
        let sigRows = naiveCentredUnitRows(try #require(data.signatureMeans), dim: data.targetDim, meanOver: t.split.train)
        let wantSig = naiveRankMetrics(queries: t.split.test.map { sigRows[$0] }, truth: t.split.test, database: database, groups: groups)
        #expect(wantTest.contains(rank1: r.test.rank1, rank10: r.test.rank10, mrr: r.test.mrr, count: r.test.count), "test \(r.test) vs \(wantTest)")
        let sig = try #require(r.signatureMeanBaseline)
        #expect(wantSig.contains(rank1: sig.rank1, rank10: sig.rank10, mrr: sig.mrr, count: sig.count), "sig_mean \(sig) vs \(wantSig)")
        // The targets are a random linear map of the signature means: the raw means are no match.
        #expect(sig.rank10 < 0.5 * r.test.rank10)
        // The hooks saw the same numbers the report holds.
        #expect(names.values("test/rank10") == [r.test.rank10] && names.values("test/mrr") == [r.test.mrr])
        #expect(names.values("baseline_sig_mean/rank10") == [sig.rank10] && names.values("baseline_random/rank10") == [r.randomBaseline.rank10])
        #expect(names.values("val/rank10") == r.epochs.map(\.validation.rank10))
        #expect(names.values("train/loss").count == r.steps)
    }

    @Test func smoothL1TrainingLowersTheLoss() throws {
        var c = smallConfig(.mlp, .smoothL1)
        c.epochs = 6
        let r = try Trainer(config: c, data: try syntheticData()).run()
        #expect(r.epochs.last!.trainLoss < 0.7 * r.epochs.first!.trainLoss, "\(r.epochs.map(\.trainLoss))")
        #expect(r.test.rank10 > r.randomBaseline.rank10)
    }

    /// Also with a negative queue: the checkpoint keeps its entries, so the resumed run sees the same negatives.
    @Test(arguments: [0, 48]) func resumeEqualsUninterruptedRun(queueSize: Int) throws {
        let saved = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = saved }
        let data = try syntheticData(count: 300)
        var c = smallConfig(.sigPredictor, .infoNCE)
        c.epochs = 2; c.model.dropout = 0.1; c.hardNegatives = 2; c.model.symmetric = true; c.queueSize = queueSize
        let dirA = temporaryDirectory("a"), dirB = temporaryDirectory("b")
        defer { try? FileManager.default.removeItem(at: dirA); try? FileManager.default.removeItem(at: dirB) }
        let a = try Trainer(config: c, data: data, checkpointDirectory: dirA)
        let reportA = try a.run()
        // Crash (cancel) at the first step of epoch 2, then resume from the epoch-1 checkpoint.
        let calls = Counter(), perEpoch = a.stepsPerEpoch
        let b = try Trainer(config: c, data: data, checkpointDirectory: dirB,
                            hooks: TrainingHooks(shouldCancel: { calls.next() > perEpoch }))
        #expect(throws: CancellationError.self) { try b.run() }
        #expect(b.epochsDone == 1)
        let b2 = try Trainer.resume(from: dirB, data: data)
        #expect(b2.epochsDone == 1 && b2.step == a.stepsPerEpoch)
        #expect(b2.negativeQueue?.state == b.negativeQueue?.state && (b2.negativeQueue?.count ?? 0) == min(queueSize, 32 * perEpoch))
        let reportB = try b2.run()
        #expect(reportA == reportB)
        let pa = Array(UnsafeBufferPointer(start: a.model.params, count: a.model.parameterCount))
        let pb = Array(UnsafeBufferPointer(start: b2.model.params, count: b2.model.parameterCount))
        #expect(pa == pb)
        #expect(Array(UnsafeBufferPointer(start: a.optimizer.m, count: a.model.parameterCount))
                == Array(UnsafeBufferPointer(start: b2.optimizer.m, count: b2.model.parameterCount)))
        // A finished checkpoint resumes to the same report without training.
        #expect(try Trainer.resume(from: dirA, data: data).run() == reportA)
        // Different data is refused.
        #expect(throws: (any Error).self) { try Trainer.resume(from: dirA, data: try syntheticData(count: 301)) }
    }

    @Test func checkpointPredictorMatchesTrainer() throws {
        let data = try syntheticData(count: 200)
        var c = smallConfig(.sigPredictor, .infoNCE)
        c.epochs = 2
        let dir = temporaryDirectory("p")
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Trainer(config: c, data: data, checkpointDirectory: dir)
        _ = try t.run()
        let p = try Predictor(checkpoint: dir)
        let all = try t.predictAll()
        #expect(try p.predict(tokens: data.tokens, offsets: data.offsets) == all)  // same batching: identical
        let small = try p.predict(tokens: data.tokens, offsets: data.offsets, batchSize: 7)
        #expect(zip(small, all).allSatisfy { abs($0 - $1) < 1e-5 })
        // PyTorch-style names, F32, the temperature included.
        let best = try SafeTensors.read(dir.appendingPathComponent(p.manifest.bestFile))
        #expect(best.tensors["blocks.0.attn.in_proj_weight"]?.shape == [96, 32])
        #expect(best.tensors["input_proj.weight"]?.shape == [32, 16])
        #expect(best.tensors["output_proj.bias"]?.shape == [16])
        #expect(best.tensors["log_temperature"]?.shape == [])
        #expect(p.manifest.targetMean == t.targetMean)
        // Only the referenced files remain.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".safetensors") }
        #expect(Set(files) == Set([p.manifest.modelFile, p.manifest.optimizerFile, p.manifest.bestFile]))
    }

    @Test func safetensorsRoundTripAndCorruptFilesThrow() throws {
        let dir = temporaryDirectory("s")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("t.safetensors")
        try SafeTensors.write([("a.weight", [2, 3], [1, 2, 3, 4, 5, 6]), ("b", [], [7.5])], metadata: ["k": "v"], to: url)
        let f = try SafeTensors.read(url)
        #expect(f.tensors["a.weight"] == SafeTensors.Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        #expect(f.tensors["b"]?.values == [7.5])
        #expect(f.metadata["k"] == "v")
        let bytes = try Data(contentsOf: url)
        #expect(bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) } % 8 == 0)
        try bytes.prefix(20).write(to: url)
        #expect(throws: (any Error).self) { try SafeTensors.read(url) }
        #expect(throws: (any Error).self) { try Predictor(checkpoint: dir) }
    }

    /// The multi-threaded partitions of the element-wise, LayerNorm, attention and optimiser loops
    /// agree with the single-threaded run (sizes large enough to be split).
    @Test func parallelLoopsAgreeWithSerial() throws {
        let saved = BLAS.threads
        defer { BLAS.threads = saved }
        var cfg = ModelConfig(kind: .sigPredictor, inputDim: 64, outputDim: 32)
        cfg.dModel = 64; cfg.heads = 4; cfg.ffnDim = 256; cfg.layers = 1; cfg.dropout = 0.1
        var rng = TrainingRNG(seed: 31)
        let lengths = (0..<64).map { _ in 1 + Int(rng.next() % 40) }
        let offsets = lengths.reduce(into: [0]) { $0.append($0.last! + $1) }
        let tokens = (0..<(offsets.last! * 64)).map { _ in Float(rng.normal()) }
        let targets = normalizeRows((0..<(64 * 32)).map { _ in Float(rng.normal()) }, dim: 32)
        let batch = Batch<Float>(tokens: tokens, offsets: offsets, targets: targets)
        var results: [([Float], [Float], Float)] = []
        for threads in [1, 2] {
            BLAS.threads = threads
            #expect(Parallel.threads == threads)
            let model = try StudentModel<Float>(config: cfg, seed: 4)
            let loss = try model.forward(batch, training: true, dropoutSeed: 8)
            model.backward()
            Ops.clipGradientNorm(model.grads, count: model.parameterCount, maxNorm: 0.1)
            let g = Array(UnsafeBufferPointer(start: model.grads, count: model.parameterCount))
            AdamW<Float>(layout: model.layout).step(params: model.params, grads: model.grads, learningRate: 1e-3, config: OptimizerConfig())
            results.append((g, Array(UnsafeBufferPointer(start: model.params, count: model.parameterCount)), loss))
        }
        #expect(abs(results[0].2 - results[1].2) <= 1e-5 * abs(results[0].2))
        let scale = results[0].0.map(abs).max()!
        #expect(zip(results[0].0, results[1].0).allSatisfy { abs($0 - $1) <= 1e-4 * max(abs($0), 1e-2 * scale) })
        #expect(zip(results[0].1, results[1].1).allSatisfy { abs($0 - $1) <= 1e-5 })
    }
}

/// The reader against a file written by the reference `safetensors` library
/// (scripts/reference/training_safetensors.py), and the writer read back by our reader.
@Test func safetensorsReadsReferenceLibraryFile() throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    struct Expected: Decodable {
        struct T: Decodable { var shape: [Int]; var values: [Float] }
        var metadata: [String: String]; var tensors: [String: T]
    }
    let exp = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: dir.appendingPathComponent("reference_safetensors.json")))
    let f = try SafeTensors.read(dir.appendingPathComponent("reference_safetensors.bin"))
    #expect(f.metadata == exp.metadata)
    #expect(Set(f.tensors.keys) == Set(exp.tensors.keys))
    for (name, t) in exp.tensors {
        #expect(f.tensors[name] == SafeTensors.Tensor(shape: t.shape, values: t.values), "\(name)")
    }
}
