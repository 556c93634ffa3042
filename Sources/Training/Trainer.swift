import Core
import Foundation

/// Trains a student on a `TrainingData` corpus: split by repository, targets centred on the train
/// mean and L2-normalised, AdamW with warmup + cosine, clipping, early stopping on validation
/// Rank@10, checkpoints every epoch, test evaluation and baselines at the end. With
/// `config.queueSize` > 0 each step's targets go into a negative queue after the step (checkpointed).
///
/// ```swift
/// let t = try Trainer(config: cfg, data: data, checkpointDirectory: dir, hooks: hooks)
/// let report = try t.run()                 // report.test.rank10, report.randomBaseline …
/// let preds = try t.predictAll()           // [count, targetDim], L2-normalised, centred space
/// // after a crash:
/// let t2 = try Trainer.resume(from: dir, data: data, hooks: hooks); _ = try t2.run()
/// ```
/// Deterministic for a given seed and OpenBLAS thread count.
public final class Trainer {
    public let config: TrainingConfig
    public let data: TrainingData
    public let split: DataSplit
    /// Mean of the train targets (the centre of the prediction space).
    public let targetMean: [Float]
    /// All targets, centred and L2-normalised `[count, targetDim]` — the retrieval database.
    public let normalizedTargets: [Float]
    /// `token_decoder`: mean of the train functions' (first `maxTargetTokens`) target token rows;
    /// each batch's target tokens are centred on it, then L2-normalised per token.
    public let targetTokenMean: [Float]?
    public let model: StudentModel<Float>
    let optimizer: AdamW<Float>
    public let hooks: TrainingHooks
    public let checkpointDirectory: URL?

    public let stepsPerEpoch: Int
    public var totalSteps: Int { stepsPerEpoch * config.epochs }
    let warmupSteps: Int
    lazy var hardNegativeLists: [[Int]]? = computeHardNegatives()
    /// The InfoNCE negative queue (`config.queueSize` > 0): the targets of the last trained functions.
    public let negativeQueue: NegativeQueue<Float>?

    // Run state (all of it is in the checkpoint).
    public internal(set) var epochsDone = 0
    public internal(set) var step = 0
    var bestValidationRank10 = -1.0
    var bestEpoch = 0
    var badEpochs = 0
    var history: [EpochRecord] = []
    var bestParams: [Float]
    var done = false
    var stoppedEarly = false
    var bestFile: String?

    /// `split` (e.g. one of `DataSplit.folds`) replaces the seeded `DataSplit.byRepository` split;
    /// a checkpoint does not record it, so give it only to a trainer without `checkpointDirectory`.
    public init(config: TrainingConfig, data: TrainingData, checkpointDirectory: URL? = nil,
                hooks: TrainingHooks = TrainingHooks(), split given: DataSplit? = nil) throws {
        try config.validate()
        guard config.model.inputDim == data.inputDim, config.model.outputDim == data.targetDim else {
            throw TrainingError.wrongDimension("model dims \(config.model.inputDim)→\(config.model.outputDim) do not match the data's \(data.inputDim)→\(data.targetDim)")
        }
        if config.model.kind == .tokenDecoder && data.targetTokens == nil {
            throw TrainingError.invalidTrainingData("token_decoder needs target token matrices (TrainingData.withTargetTokens)")
        }
        self.config = config
        self.data = data
        self.hooks = hooks
        self.checkpointDirectory = checkpointDirectory
        if let given {
            guard checkpointDirectory == nil else {
                throw TrainingError.invalidArgument("a given split is not checkpointed; train it without a checkpoint directory")
            }
            let all = given.train + given.validation + given.test
            guard !given.train.isEmpty, !given.validation.isEmpty, !given.test.isEmpty,
                  all.allSatisfy({ (0..<data.count).contains($0) }), Set(all).count == all.count else {
                throw TrainingError.invalidArgument("a given split needs non-empty, disjoint parts of function indices below \(data.count)")
            }
            split = given
        } else {
            split = try DataSplit.byRepository(data.repositories, seed: config.seed)
        }
        targetMean = rowMean(data.targets, dim: data.targetDim, rows: split.train)
        normalizedTargets = centreAndNormalize(data.targets, dim: data.targetDim, mean: targetMean)
        if config.model.kind == .tokenDecoder, let tt = data.targetTokens, let to = data.targetTokenOffsets {
            let cap = config.model.maxTargetTokens
            targetTokenMean = rowMean(tt, dim: data.targetDim, rows: split.train.flatMap { to[$0]..<min(to[$0 + 1], to[$0] + cap) })
        } else {
            targetTokenMean = nil
        }
        model = try StudentModel<Float>(config: config.model, seed: config.seed)
        optimizer = AdamW<Float>(layout: model.layout)
        stepsPerEpoch = max(1, split.train.count / config.batchSize)
        warmupSteps = config.optimizer.warmupSteps ?? max(1, stepsPerEpoch * config.epochs / 20)
        bestParams = Array(UnsafeBufferPointer(start: model.params, count: model.parameterCount))
        negativeQueue = config.queueSize > 0 ? NegativeQueue(capacity: config.queueSize, dim: data.targetDim) : nil
        if let dir = checkpointDirectory {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
    }

    /// Trains the remaining epochs (all of them for a new trainer), then evaluates.
    public func run() throws -> TrainingReport {
        let trainCount = split.train.count
        let bsz = min(config.batchSize, trainCount)
        let logTMin = Float(Double.logarithm(config.model.temperatureMin))
        let logTMax = Float(Double.logarithm(config.model.temperatureMax))
        while !done {
            let epoch = epochsDone
            var order = split.train
            var rng = TrainingRNG(seed: config.seed, stream: 1000 + UInt64(epoch))
            rng.shuffle(&order)
            var lossSum = 0.0
            var lr = 0.0
            for s in 0..<stepsPerEpoch {
                if hooks.shouldCancel() { throw CancellationError() }
                let t0 = DispatchTime.now().uptimeNanoseconds
                let ids = Array(order[(s * bsz)..<min(trainCount, (s + 1) * bsz)])
                let batch = makeBatch(ids)
                lr = Ops.learningRate(step: step, total: totalSteps, warmup: warmupSteps,
                                      base: config.optimizer.learningRate, minRatio: config.optimizer.minLearningRateRatio)
                let loss = try model.forward(batch, training: true, dropoutSeed: config.seed &* 0x9E37_79B9 &+ UInt64(step),
                                             negatives: negativeQueue)
                guard loss.isFinite else {
                    throw TrainingError.diverged(step: step + 1, loss: loss)
                }
                model.backward()
                Ops.clipGradientNorm(model.grads, count: model.parameterCount, maxNorm: config.optimizer.gradClip)
                optimizer.step(params: model.params, grads: model.grads, learningRate: lr, config: config.optimizer)
                let lt = model.logTemperatureOffset
                model.params[lt] = min(max(model.params[lt], logTMin), logTMax)
                enqueueTargets(ids)
                step += 1
                lossSum += Double(loss)
                let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                hooks.onMetric(step, "train/loss", Double(loss))
                hooks.onMetric(step, "train/lr", lr)
                hooks.onMetric(step, "train/temperature", Double(model.temperature))
                hooks.onMetric(step, "train/examples_per_second", Double(batch.count) / max(dt, 1e-9))
                if config.model.kind == .tokenDecoder { hooks.onMetric(step, "train/token_loss", Double(model.lastTokenLoss)) }
                hooks.onProgress(Double(step) / Double(totalSteps), "epoch \(epoch + 1)/\(config.epochs), step \(step)/\(totalSteps)")
            }
            let val = try evaluate(split.validation)
            let record = EpochRecord(epoch: epoch + 1, step: step, trainLoss: lossSum / Double(stepsPerEpoch),
                                     validation: val, temperature: Double(model.temperature), learningRate: lr)
            history.append(record)
            hooks.onMetric(step, "train/epoch_loss", record.trainLoss)
            hooks.onMetric(step, "val/rank1", val.rank1)
            hooks.onMetric(step, "val/rank10", val.rank10)
            hooks.onMetric(step, "val/mrr", val.mrr)
            var improved = false
            if val.rank10 > bestValidationRank10 || bestEpoch == 0 {
                bestValidationRank10 = val.rank10
                bestEpoch = epoch + 1
                badEpochs = 0
                bestParams = Array(UnsafeBufferPointer(start: model.params, count: model.parameterCount))
                improved = true
            } else {
                badEpochs += 1
            }
            epochsDone = epoch + 1
            if config.patience > 0 && badEpochs >= config.patience && epochsDone < config.epochs {
                stoppedEarly = true
                done = true
            }
            if epochsDone >= config.epochs { done = true }
            if let dir = checkpointDirectory {
                try saveCheckpoint(to: dir, bestChanged: improved)
                hooks.onCheckpoint(dir, epochsDone)
            }
        }
        return try finish()
    }

    /// Loads the best-validation parameters and evaluates them and the baselines on the test part.
    func finish() throws -> TrainingReport {
        bestParams.withUnsafeBufferPointer { model.params.update(from: $0.baseAddress!, count: model.parameterCount) }
        let test = try evaluate(split.test)
        let val = try history.first { $0.epoch == bestEpoch }?.validation ?? evaluate(split.validation)
        let random = try randomBaseline(split.test)
        let sigMean = try signatureMeanBaseline(split.test)
        for (prefix, m) in [("test", test), ("baseline_random", random)] + (sigMean.map { [("baseline_sig_mean", $0)] } ?? []) {
            hooks.onMetric(step, "\(prefix)/rank1", m.rank1)
            hooks.onMetric(step, "\(prefix)/rank10", m.rank10)
            hooks.onMetric(step, "\(prefix)/mrr", m.mrr)
        }
        hooks.onProgress(1, "done: test Rank@10 \(String(format: "%.4f", test.rank10))")
        return TrainingReport(trainCount: split.train.count, validationCount: split.validation.count, testCount: split.test.count,
                              corpusCount: data.count, epochs: history, bestEpoch: bestEpoch, stoppedEarly: stoppedEarly,
                              steps: step, test: test, validation: val, randomBaseline: random, signatureMeanBaseline: sigMean)
    }
}
