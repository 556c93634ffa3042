import Core
import Foundation

/// A trained student loaded from a checkpoint directory, for prediction.
///
/// ```swift
/// let p = try Predictor(checkpoint: dir)              // best-validation parameters
/// let v = try p.predict(tokens: sigTokens, offsets: [0, 7, 12])   // [2, D], L2-normalised
/// ```
public final class Predictor {
    public let manifest: CheckpointManifest
    public let model: StudentModel<Float>
    public var inputDim: Int { model.config.inputDim }
    public var outputDim: Int { model.config.outputDim }

    /// Loads the best-validation parameters (`best: false` loads the latest ones).
    public init(checkpoint dir: URL, best: Bool = true) throws {
        manifest = try CheckpointManifest.read(dir)
        model = try StudentModel<Float>(config: manifest.config.model, seed: 0)
        let file = best ? manifest.bestFile : manifest.modelFile
        try model.loadTensors(SafeTensors.read(dir.appendingPathComponent(file)), into: model.params)
    }

    /// Predicted embeddings `[count, outputDim]`, L2-normalised in the centred target space (add
    /// `manifest.targetMean` direction-wise only if you need the teacher's raw space). Sequences are
    /// capped at the training `maxTokens`; inputs are processed in batches (default: the
    /// training `evalBatchSize`, which reproduces the trainer's predictions bit for bit).
    public func predict(tokens: [Float], offsets: [Int], batchSize: Int? = nil) throws -> [Float] {
        let batchSize = max(1, batchSize ?? manifest.config.evalBatchSize)
        let din = inputDim, n = offsets.count - 1
        guard n >= 1, offsets[0] == 0, tokens.count == offsets[n] * din else {
            throw TrainingError.wrongDimension("predict: \(tokens.count) values do not match offsets ending at \(offsets.last ?? 0) × \(din)")
        }
        let cap = manifest.config.maxTokens
        var out: [Float] = []
        out.reserveCapacity(n * outputDim)
        var start = 0
        while start < n {
            let end = min(n, start + batchSize)
            var tk: [Float] = [], off = [0]
            for i in start..<end {
                let s = offsets[i], l = min(offsets[i + 1] - s, cap)
                guard l >= 1 else { throw TrainingError.invalidBatch("predict: input \(i) has no tokens") }
                tk.append(contentsOf: tokens[(s * din)..<((s + l) * din)])
                off.append(off.last! + l)
            }
            out += normalizeRows(try model.predict(tokens: tk, offsets: off), dim: outputDim)
            start = end
        }
        return out
    }
}
