import Core
import Foundation

/// The JSON file of a checkpoint directory (`config.json`): model hyper-parameters, the data
/// normalisation, the run state and the names of the tensor files it belongs to.
public struct CheckpointManifest: Codable, Sendable {
    public static let formatName = "swejepa-student-checkpoint/1"
    public var format = CheckpointManifest.formatName
    public var config: TrainingConfig
    /// Mean of the train targets: predictions live in the centred, L2-normalised target space.
    public var targetMean: [Float]
    public var dataFingerprint: String
    public var corpusCount: Int
    public var epoch: Int
    public var step: Int
    public var bestEpoch: Int
    public var bestValidationRank10: Double
    public var badEpochs: Int
    public var done: Bool
    public var stoppedEarly: Bool
    public var history: [EpochRecord]
    /// Current parameters, optimizer moments, best-validation parameters (file names in the directory).
    public var modelFile: String
    public var optimizerFile: String
    public var bestFile: String
    /// The negative queue's functions (slot order) and head; absent without a queue (and in
    /// checkpoints written before the queue existed, whose queue then starts empty).
    public var negativeQueue: NegativeQueueState?

    public static func read(_ dir: URL) throws -> CheckpointManifest {
        let url = dir.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url) else {
            throw TrainingError.checkpointMissing("no checkpoint at \(dir.path) (config.json missing)")
        }
        do {
            let m = try JSONDecoder().decode(CheckpointManifest.self, from: data)
            guard m.format == formatName else {
                throw TrainingError.invalidCheckpoint("checkpoint format \(m.format), expected \(formatName)")
            }
            return m
        } catch let e as TrainingError { throw e } catch {
            throw TrainingError.invalidCheckpoint("checkpoint config.json is invalid: \(error)")
        }
    }
}

extension StudentModel where T == Float {
    /// The parameters as named tensors (PyTorch-style names, layout order).
    func namedTensors(_ values: UnsafePointer<Float>, prefix: String = "") -> [(name: String, shape: [Int], values: [Float])] {
        layout.entries.map { e in
            (prefix + e.name, e.shape, Array(UnsafeBufferPointer(start: values + e.offset, count: e.count)))
        }
    }

    /// Copies named tensors into `dst` (layout order); every tensor must be present with its shape.
    func loadTensors(_ file: SafeTensors.File, into dst: UnsafeMutablePointer<Float>, prefix: String = "") throws {
        for e in layout.entries {
            guard let t = file.tensors[prefix + e.name] else {
                throw TrainingError.invalidCheckpoint("checkpoint lacks tensor \(prefix + e.name)")
            }
            guard t.shape == e.shape else {
                throw TrainingError.invalidCheckpoint("checkpoint tensor \(prefix + e.name) has shape \(t.shape), expected \(e.shape)")
            }
            (dst + e.offset).update(from: t.values, count: e.count)
        }
    }
}

extension Trainer {
    /// Writes the tensor files, then `config.json` atomically (the commit point), then removes the
    /// files no manifest references any more.
    func saveCheckpoint(to dir: URL, bestChanged: Bool) throws {
        let tag = String(format: "%06d", step)
        let modelFile = "model-\(tag).safetensors", optFile = "optimizer-\(tag).safetensors"
        let meta = ["format": "pt", "step": String(step), "epoch": String(epochsDone)]
        try SafeTensors.write(model.namedTensors(model.params), metadata: meta, to: dir.appendingPathComponent(modelFile))
        try SafeTensors.write(model.namedTensors(optimizer.m, prefix: "exp_avg.") + model.namedTensors(optimizer.v, prefix: "exp_avg_sq."),
                              metadata: ["step": String(optimizer.step)], to: dir.appendingPathComponent(optFile))
        if bestChanged || bestFile == nil {
            let f = "best-\(tag).safetensors"
            try bestParams.withUnsafeBufferPointer { p in
                try SafeTensors.write(model.namedTensors(p.baseAddress!), metadata: ["format": "pt", "epoch": String(bestEpoch)],
                                      to: dir.appendingPathComponent(f))
            }
            bestFile = f
        }
        let manifest = CheckpointManifest(
            config: config, targetMean: targetMean, dataFingerprint: data.fingerprint, corpusCount: data.count,
            epoch: epochsDone, step: step, bestEpoch: bestEpoch, bestValidationRank10: bestValidationRank10,
            badEpochs: badEpochs, done: done, stoppedEarly: stoppedEarly, history: history,
            modelFile: modelFile, optimizerFile: optFile, bestFile: bestFile!, negativeQueue: negativeQueue?.state)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(try enc.encode(manifest), to: dir.appendingPathComponent("config.json"))
        let keep: Set<String> = [modelFile, optFile, bestFile!, "config.json"]
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        where f.hasSuffix(".safetensors") && !keep.contains(f) && (f.hasPrefix("model-") || f.hasPrefix("optimizer-") || f.hasPrefix("best-")) {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(f))
        }
    }

    /// Rebuilds a trainer from the last checkpoint in `dir`; `run()` then continues exactly where it
    /// stopped (same parameters, optimizer moments, step, early-stopping state, negative queue).
    public static func resume(from dir: URL, data: TrainingData, hooks: TrainingHooks = TrainingHooks()) throws -> Trainer {
        let m = try CheckpointManifest.read(dir)
        guard m.dataFingerprint == data.fingerprint else {
            throw TrainingError.checkpointDataMismatch(path: dir.path)
        }
        let t = try Trainer(config: m.config, data: data, checkpointDirectory: dir, hooks: hooks)
        try t.model.loadTensors(SafeTensors.read(dir.appendingPathComponent(m.modelFile)), into: t.model.params)
        let opt = try SafeTensors.read(dir.appendingPathComponent(m.optimizerFile))
        try t.model.loadTensors(opt, into: t.optimizer.m, prefix: "exp_avg.")
        try t.model.loadTensors(opt, into: t.optimizer.v, prefix: "exp_avg_sq.")
        guard let s = opt.metadata["step"].flatMap(Int.init) else {
            throw TrainingError.invalidCheckpoint("optimizer state lacks its step")
        }
        t.optimizer.step = s
        try t.bestParams.withUnsafeMutableBufferPointer { p in
            try t.model.loadTensors(SafeTensors.read(dir.appendingPathComponent(m.bestFile)), into: p.baseAddress!)
        }
        t.bestFile = m.bestFile
        t.epochsDone = m.epoch; t.step = m.step; t.bestEpoch = m.bestEpoch
        t.bestValidationRank10 = m.bestValidationRank10; t.badEpochs = m.badEpochs
        t.done = m.done; t.stoppedEarly = m.stoppedEarly; t.history = m.history
        if let q = t.negativeQueue, let s = m.negativeQueue {
            try t.normalizedTargets.withUnsafeBufferPointer { try q.restore(s, targets: $0.baseAddress!, groups: data.duplicateGroups) }
        }
        return t
    }
}
