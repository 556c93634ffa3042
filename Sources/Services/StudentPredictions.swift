import Core
import Foundation
import Store
import Teacher
import Training

/// Predictions of a trained student (`POST /v1/predict`): from the stored input vectors of functions,
/// or from signature texts run through the teacher first. Loaded checkpoints are cached.
///
/// ```swift
/// let source = try await StudentPredictions.resolve(store: store, dataDirectory: dir, jobID: 7, checkpoint: nil)
/// let out = try await StudentPredictions.predict(source, store: store, dataDirectory: dir, functionIDs: [1, 2])
/// out.values   // [2 × out.dim], L2-normalised in the centred target space (like the student space)
/// ```
public enum StudentPredictions {
    /// A checkpoint directory ready to predict with.
    public struct Source: Sendable {
        public var directory: URL
        public var jobID: Int64?
        public var info: CheckpointInfo?
    }

    public struct Output: Sendable {
        public var source: Source
        public var dim: Int
        /// `[count, dim]`, row i for the i-th function id or signature.
        public var values: [Float]
    }

    public static let maxFunctionIDs = 10_000
    public static let maxSignatures = 256

    /// The checkpoint of a finished train job, or a directory under `DATA/checkpoints` (relative to it
    /// or absolute); exactly one of the two.
    public static func resolve(store: any StoreBackend, dataDirectory: URL, jobID: Int64?, checkpoint: String?) async throws -> Source {
        switch (jobID, checkpoint) {
        case (nil, nil), (.some, .some):
            throw APIError.badRequest("give exactly one of 'job_id' (a finished train job) and 'checkpoint' (a directory under DATA/checkpoints)",
                                      code: "invalid_parameter")
        case (let id?, nil):
            guard let job = try await store.job(id: id) else { throw APIError.notFound("job \(id) does not exist", code: "unknown_job") }
            guard job.type == Checkpoints.trainJobType else {
                throw APIError.unprocessable("job \(id) is a '\(job.type)' job, not a train job", code: "not_a_train_job")
            }
            guard job.state == .succeeded else {
                let partial = FileManager.default.fileExists(
                    atPath: Checkpoints.directory(dataDirectory, job: id).appendingPathComponent("config.json").path)
                throw APIError.conflict("train job \(id) is \(job.state.rawValue), not succeeded"
                                        + (partial ? "; its latest checkpoint is usable as 'checkpoint': \"job-\(id)\"" : " (and has no checkpoint yet)"),
                                        code: "job_not_finished")
            }
            if job.result?["fold_results"] != nil {
                let space = job.result?["output_space"]?.stringValue ?? "student.job-\(id)"
                throw APIError.notFound("train job \(id) ran with folds and keeps no model; its out-of-fold predictions are the space '\(space)'",
                                        code: "unknown_checkpoint")
            }
            let dir = job.result?["checkpoint"]?.stringValue.map { Checkpoints.resolve($0, dataDirectory: dataDirectory) }
                ?? Checkpoints.directory(dataDirectory, job: id)
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("config.json").path) else {
                throw APIError.notFound("the checkpoint of job \(id) is gone", code: "unknown_checkpoint")
            }
            var info = CheckpointInfo.read(dir)
            if info == nil, let input = job.params["input_space"]?.stringValue {
                info = CheckpointInfo(jobID: id, inputSpace: input, inputKind: "", targetSpace: job.params["target_space"]?.stringValue ?? "",
                                      outputSpace: job.result?["output_space"]?.stringValue ?? "", model: "", layer: nil)
            }
            return Source(directory: dir, jobID: id, info: info)
        case (nil, let path?):
            let root = Checkpoints.root(dataDirectory).standardizedFileURL.resolvingSymlinksInPath()
            let url = (path.hasPrefix("/") ? URL(fileURLWithPath: path, isDirectory: true) : root.appendingPathComponent(path, isDirectory: true))
                .standardizedFileURL.resolvingSymlinksInPath()
            guard url.path.hasPrefix(root.path + "/") else {
                throw APIError.unprocessable("checkpoint must name a directory in the server's checkpoints directory (e.g. \"job-7\")", code: "invalid_checkpoint_path")
            }
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) else {
                throw APIError.notFound("no checkpoint named '\(url.path.dropFirst(root.path.count + 1))'", code: "unknown_checkpoint")
            }
            let info = CheckpointInfo.read(url)
            return Source(directory: url, jobID: info?.jobID, info: info)
        }
    }

    /// Predictions from the functions' vectors in the checkpoint's input space.
    public static func predict(_ source: Source, store: any StoreBackend, functionIDs ids: [Int64]) async throws -> Output {
        guard !ids.isEmpty, ids.count <= maxFunctionIDs else {
            throw APIError.badRequest("function_ids must hold 1 to \(maxFunctionIDs) ids", code: "invalid_parameter")
        }
        let space = try await inputSpace(source, store: store)
        let batch: VectorBatch
        do {
            batch = try await store.vectors(space: space.name, ids: ids)
        } catch let e as StoreError {
            guard case .unknownVectors = e else { throw e }
            throw APIError.unprocessable(e.description + " (unknown function, or not embedded in the input space)", code: "unknown_function")
        }
        var offsets = [0]
        for r in batch.rows { offsets.append(offsets.last! + r) }
        return try await run(source, inputDim: space.dim, tokens: batch.values, offsets: offsets)
    }

    /// Predictions from signature texts: the teacher (model and layer of the input space) gives
    /// their tokens (or mean), then the student predicts.
    public static func predict(_ source: Source, store: any StoreBackend, dataDirectory: URL, signatures: [String]) async throws -> Output {
        guard !signatures.isEmpty, signatures.count <= maxSignatures else {
            throw APIError.badRequest("signatures must hold 1 to \(maxSignatures) strings", code: "invalid_parameter")
        }
        let space = try await inputSpace(source, store: store)
        let kind: SpaceKind
        switch space.kind {
        case .sigTokens: kind = .sigTokens
        case .sigMean: kind = .sigMean
        default:
            throw APIError.unprocessable("the input space '\(space.name)' is a \(space.kind.rawValue) space; predicting from signature texts needs a teacher sig_tokens or sig_mean space",
                                         code: "not_a_teacher_space")
        }
        guard let layer = space.layer else {
            throw APIError.unprocessable("the input space '\(space.name)' has no layer", code: "not_a_teacher_space")
        }
        let model = try ModelCache.shared.model(space.model, dataDirectory: dataDirectory)
        guard model.hiddenSize == space.dim else {
            throw APIError.unprocessable("model \(model.name) gives dim \(model.hiddenSize), the input space has \(space.dim)", code: "wrong_dimension")
        }
        let d = space.dim
        let embedded = try await Compute.run {
            try FunctionEmbedder(model: model).embed(functions: signatures.map { FunctionText(signature: $0, body: "") },
                                                     layers: [layer], kinds: [kind])
        }
        var tokens = [Float](), offsets = [0]
        for e in embedded {
            // As the embed job stores it: a signature without tokens is one zero row.
            var v = e.vector(layer: layer, kind: kind) ?? []
            if v.isEmpty { v = [Float](repeating: 0, count: d) }
            tokens += v
            offsets.append(offsets.last! + v.count / d)
        }
        return try await run(source, inputDim: d, tokens: tokens, offsets: offsets)
    }

    /// The space the checkpoint reads its inputs from: named by its `job.json`, and still in the store.
    static func inputSpace(_ source: Source, store: any StoreBackend) async throws -> SpaceRecord {
        guard let info = source.info, !info.inputSpace.isEmpty else {
            throw APIError.unprocessable("the checkpoint '\(source.directory.lastPathComponent)' does not name its input space (no job.json)", code: "unknown_input_space")
        }
        guard let space = try await store.space(named: info.inputSpace) else {
            throw APIError.unprocessable("the checkpoint's input space '\(info.inputSpace)' no longer exists", code: "unknown_space")
        }
        return space
    }

    static func run(_ source: Source, inputDim: Int, tokens: [Float], offsets: [Int]) async throws -> Output {
        let entry = try PredictorCache.shared.entry(source.directory)
        guard entry.inputDim == inputDim else {
            throw APIError.unprocessable("the checkpoint takes inputs of dim \(entry.inputDim), the input space has \(inputDim)", code: "wrong_dimension")
        }
        let values = try await Compute.run { try entry.predict(tokens: tokens, offsets: offsets) }
        return Output(source: source, dim: entry.outputDim, values: values)
    }
}
