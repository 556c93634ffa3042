import Core
import Foundation

/// Everything a training run needs besides the data.
///
/// ```swift
/// var c = TrainingConfig(model: ModelConfig(kind: .sigPredictor, inputDim: 384, outputDim: 384))
/// c.epochs = 20; c.batchSize = 64; c.optimizer.learningRate = 3e-4; c.hardNegatives = 0
/// ```
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var model: ModelConfig
    public var optimizer = OptimizerConfig()
    public var batchSize = 64
    public var epochs = 10
    public var seed: UInt64 = 0
    /// Signature tokens beyond this are dropped (the first `maxTokens` are kept).
    public var maxTokens = 64
    /// Hard negatives per function appended to the InfoNCE denominator (0 = off).
    public var hardNegatives = 0
    /// Entries of the negative queue: the targets of the last `queueSize` trained functions join
    /// every InfoNCE denominator (MoCo-style memory, 0 = off, at most `maxQueueSize`). Entries of a
    /// row's own duplicate group are masked; a function also in the batch is not (it is then a
    /// negative twice for the other rows), nor are repeats when `queueSize` exceeds an epoch.
    public var queueSize = 0
    /// The largest `queueSize`.
    public static let maxQueueSize = 4096
    /// Early stopping: stop after this many epochs without a better validation Rank@10 (0 = off).
    public var patience = 3
    /// Batch size for prediction and evaluation.
    public var evalBatchSize = 256

    public init(model: ModelConfig) { self.model = model }

    public func validate() throws {
        try model.validate()
        func bad(_ m: String) -> TrainingError { .invalidTrainingConfig(m) }
        guard batchSize >= 2 else { throw bad("batchSize must be at least 2") }
        guard epochs >= 1 else { throw bad("epochs must be at least 1") }
        guard maxTokens >= 1, evalBatchSize >= 1 else { throw bad("maxTokens and evalBatchSize must be positive") }
        guard hardNegatives >= 0, patience >= 0 else { throw bad("hardNegatives and patience must be ≥ 0") }
        guard hardNegatives == 0 || model.loss == .infoNCE else { throw bad("hard negatives need the info_nce loss") }
        guard (0...Self.maxQueueSize).contains(queueSize) else { throw bad("queueSize must be in 0...\(Self.maxQueueSize)") }
        guard queueSize == 0 || model.loss == .infoNCE else { throw bad("a negative queue needs the info_nce loss") }
        let o = optimizer
        guard o.learningRate > 0, o.learningRate.isFinite else { throw bad("learningRate must be positive") }
        guard (0..<1).contains(o.beta1), (0..<1).contains(o.beta2), o.eps > 0 else { throw bad("invalid Adam betas/eps") }
        guard o.weightDecay >= 0, o.gradClip >= 0, (0...1).contains(o.minLearningRateRatio) else {
            throw bad("weightDecay and gradClip must be ≥ 0, minLearningRateRatio in [0, 1]")
        }
        if let w = o.warmupSteps, w < 0 { throw bad("warmupSteps must be ≥ 0") }
    }
}

/// Callbacks a training run reports through (all optional).
///
/// ```swift
/// let hooks = TrainingHooks(
///     onMetric: { step, name, value in series.append(step, name, value) },
///     onProgress: { fraction, message in job.progress(fraction, message) },
///     shouldCancel: { job.cancelRequested },
///     onCheckpoint: { dir, epoch in log("checkpoint \(epoch) at \(dir.path)") })
/// ```
public struct TrainingHooks: Sendable {
    /// A metric at a global step: "train/loss", "train/temperature", "train/lr",
    /// "train/examples_per_second", "train/epoch_loss", "val/rank1", "val/rank10", "val/mrr",
    /// "train/token_loss" (token_decoder: the unweighted per-token cosine loss; "train/loss" includes it weighted),
    /// "test/…", "baseline_random/…", "baseline_sig_mean/…".
    public var onMetric: @Sendable (_ step: Int, _ name: String, _ value: Double) -> Void
    /// Overall progress in [0, 1] with a short message.
    public var onProgress: @Sendable (_ fraction: Double, _ message: String) -> Void
    /// Checked before every step; returning true stops the run with `CancellationError`.
    public var shouldCancel: @Sendable () -> Bool
    /// After a checkpoint was written (directory, completed epoch).
    public var onCheckpoint: @Sendable (_ directory: URL, _ epoch: Int) -> Void

    public init(onMetric: @escaping @Sendable (Int, String, Double) -> Void = { _, _, _ in },
                onProgress: @escaping @Sendable (Double, String) -> Void = { _, _ in },
                shouldCancel: @escaping @Sendable () -> Bool = { false },
                onCheckpoint: @escaping @Sendable (URL, Int) -> Void = { _, _ in }) {
        self.onMetric = onMetric; self.onProgress = onProgress; self.shouldCancel = shouldCancel; self.onCheckpoint = onCheckpoint
    }
}

/// One finished epoch.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var step: Int
    public var trainLoss: Double
    public var validation: RetrievalMetrics
    public var temperature: Double
    public var learningRate: Double
}

/// The outcome of a run.
public struct TrainingReport: Codable, Sendable, Equatable {
    public var trainCount: Int, validationCount: Int, testCount: Int, corpusCount: Int
    public var epochs: [EpochRecord]
    public var bestEpoch: Int
    public var stoppedEarly: Bool
    public var steps: Int
    /// The best-validation model on the test functions, ranked among all functions.
    public var test: RetrievalMetrics
    public var validation: RetrievalMetrics
    /// Random unit vectors as predictions (seeded), same code, same test functions.
    public var randomBaseline: RetrievalMetrics
    /// The teacher's own `sig_mean` as the prediction (when given), same test functions.
    public var signatureMeanBaseline: RetrievalMetrics?
}
