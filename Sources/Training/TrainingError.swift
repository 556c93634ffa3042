import Core

/// Everything the Training module rejects: configurations, data and batches that do not fit, a run
/// that diverged, checkpoints that are missing or do not match. No HTTP here: the category says
/// what kind of failure it is and the server picks the status.
///
/// ```swift
/// do { try config.validate() }
/// catch let e as TrainingError { print(e.code, e) }  // invalid_training_config training config: epochs must be at least 1
/// ```
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `ModelConfig` fields that do not fit together.
    case invalidModelConfig(String)
    /// `TrainingConfig` fields out of range.
    case invalidTrainingConfig(String)
    /// `TrainingData` buffers that disagree with their shape, or non-finite values.
    case invalidTrainingData(String)
    /// The split by repository needs at least three repositories.
    case tooFewRepositories(Int)
    /// Sizes that do not agree with the model's or the data's dimensions.
    case wrongDimension(String)
    /// A batch that cannot be run (no sequences, empty sequences, a mask of the wrong size).
    case invalidBatch(String)
    /// An argument outside its range.
    case invalidArgument(String)
    /// The loss became NaN or infinite at this (1-based) step.
    case diverged(step: Int, loss: Float)
    /// No checkpoint (or checkpoint file) at this path.
    case checkpointMissing(String)
    /// A checkpoint that does not read as one (format, tensors, shapes, optimizer state).
    case invalidCheckpoint(String)
    /// The checkpoint in this directory was trained on other data.
    case checkpointDataMismatch(path: String)
    /// Writing a checkpoint failed, or a tensor to write is inconsistent.
    case writeFailed(String)

    public var description: String {
        switch self {
        case .invalidModelConfig(let m): "model config: \(m)"
        case .invalidTrainingConfig(let m): "training config: \(m)"
        case .invalidTrainingData(let m): "training data: \(m)"
        case .tooFewRepositories(let n): "the split by repository needs at least 3 repositories, got \(n)"
        case .wrongDimension(let m), .invalidBatch(let m), .invalidArgument(let m), .checkpointMissing(let m),
             .invalidCheckpoint(let m), .writeFailed(let m):
            m
        case let .diverged(step, loss): "training diverged at step \(step): the loss is \(loss); lower the learning rate"
        case .checkpointDataMismatch(let path): "the checkpoint at \(path) was trained on different data"
        }
    }
}

extension TrainingError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .invalidModelConfig, .invalidTrainingConfig, .invalidTrainingData, .wrongDimension, .invalidBatch, .invalidArgument:
            .invalidInput
        case .tooFewRepositories, .diverged, .invalidCheckpoint: .unprocessable
        case .checkpointMissing: .notFound
        case .checkpointDataMismatch: .conflict
        case .writeFailed: .internalFailure
        }
    }

    public var code: String {
        switch self {
        case .invalidModelConfig: "invalid_model_config"
        case .invalidTrainingConfig: "invalid_training_config"
        case .invalidTrainingData: "invalid_training_data"
        case .tooFewRepositories: "too_few_repositories"
        case .wrongDimension: "wrong_dimension"
        case .invalidBatch: "invalid_batch"
        case .invalidArgument: "invalid"
        case .diverged: "training_diverged"
        case .checkpointMissing: "checkpoint_missing"
        case .invalidCheckpoint: "invalid_checkpoint"
        case .checkpointDataMismatch: "checkpoint_data_mismatch"
        case .writeFailed: "internal"
        }
    }
}
