import Core
import Foundation
import Services
import Store
import Training

/// `train {input_space, target_space, model?, loss?, …TrainingConfig fields in snake_case, output_space?, split_by?}`:
/// trains a student to predict the target space (e.g. `body_mean`) from the input space (`sig_tokens`
/// or `sig_mean`), evaluates it on held-out repositories (Rank@1/10, MRR beside the random and
/// `sig_mean` baselines) and stores its prediction for every function as a `student` space.
/// `model: token_decoder` also needs `target_tokens_space` (a token space of the target's dim, e.g.
/// `body_tokens`): the first `max_target_tokens` rows of each function are its per-token targets.
///
/// Checkpoints go to `DATA/checkpoints/job-<id>/` every epoch; a job re-run after its worker died
/// continues from the last one. The result is the `TrainingReport` (snake_case) plus
/// `output_space`, `checkpoint`, `resumed`, `config`.
///
/// ```swift
/// TrainJob.register(on: runner, writer: VectorWriter(store: store, search: search))
/// try await runner.submit(type: "train", params: ["input_space": "all-MiniLM-L6-v2.L3.sig_tokens",
///     "target_space": "all-MiniLM-L6-v2.L3.body_mean", "model": "sig_predictor", "loss": "infonce", "epochs": 20])
/// ```
public enum TrainJob {
    public static let type = Checkpoints.trainJobType
    /// Vectors per `upsertVectors` call when storing the student space.
    static let writeBatch = 2_000

    public static func register(on runner: JobRunner, writer: VectorWriter) {
        runner.register(type, Params.self) { ctx, p in try await run(ctx, p, writer: writer) }
    }

    /// `DATA/checkpoints/job-ID` (see `Checkpoints`).
    public static func checkpointDirectory(_ dataDirectory: URL, job: Int64) -> URL {
        Checkpoints.directory(dataDirectory, job: job)
    }

    /// `observer` is a test seam: told of every checkpoint (epoch) as it is written, on the compute thread;
    /// `foldObserver` of every finished epoch of every fold (with `folds`).
    static func run(_ ctx: JobContext, _ p: Params, writer: VectorWriter,
                    observer: (@Sendable (_ epoch: Int) -> Void)? = nil,
                    foldObserver: (@Sendable (_ fold: Int, _ epoch: Int) -> Void)? = nil) async throws -> Output {
        let started = Date()
        let store = ctx.store
        guard let input = try await store.space(named: p.inputSpace) else {
            throw APIError.notFound("input space '\(p.inputSpace)' does not exist", code: "unknown_space")
        }
        guard let target = try await store.space(named: p.targetSpace) else {
            throw APIError.notFound("target space '\(p.targetSpace)' does not exist", code: "unknown_space")
        }
        guard !target.kind.isTokens else {
            throw APIError.unprocessable("the target space '\(target.name)' holds token matrices; train on one vector per function (body_mean …)", code: "wrong_space_kind")
        }
        var targetTokens: SpaceRecord?
        if let name = p.targetTokensSpace {
            guard let s = try await store.space(named: name) else {
                throw APIError.notFound("target tokens space '\(name)' does not exist", code: "unknown_space")
            }
            guard s.kind.isTokens else {
                throw APIError.unprocessable("target_tokens_space '\(s.name)' holds one vector per function; token_decoder needs token matrices (body_tokens …)",
                                             code: "wrong_space_kind")
            }
            guard s.dim == target.dim else {
                throw APIError.unprocessable("target_tokens_space '\(s.name)' has dim \(s.dim), the target space \(target.dim)",
                                             code: "dimension_mismatch")
            }
            targetTokens = s
        }
        let outputName = p.outputSpace ?? "student.job-\(ctx.job.id)"
        if let existing = try await store.space(named: outputName) {
            // Only an earlier attempt of this very job may have left it behind.
            guard ctx.job.attempt > 1, existing.kind == .student, existing.dim == target.dim else {
                throw APIError.conflict("space '\(outputName)' already exists; choose another output_space", code: "space_exists")
            }
        }
        var config = p.config
        config.model.inputDim = input.dim
        config.model.outputDim = target.dim

        await ctx.progress(0, "loading \(input.name) and \(target.name)")
        let loaded = try await load(store: store, input: input, target: target, maxTokens: config.maxTokens, splitBy: p.splitBy,
                                    targetTokens: targetTokens, maxTargetTokens: config.model.maxTargetTokens)
        try ctx.checkCancelled()
        var loadMessage = "\(loaded.data.count) functions in \(loaded.repositories) \(p.splitBy == .repository ? "repositories" : "directories"), "
            + "\(loaded.groups) duplicate groups; \(loaded.data.offsets.last!) input rows of dim \(input.dim) → targets of dim \(target.dim)"
        if loaded.skippedStale > 0 { loadMessage += "; \(loaded.skippedStale) functions with stale vectors left out" }
        if let t = targetTokens {
            let rows: Int = loaded.data.targetTokenOffsets?.last ?? 0
            loadMessage += "; \(rows) target token rows from \(t.name)"
        }
        if loaded.skippedNoTargetTokens > 0 { loadMessage += "; \(loaded.skippedNoTargetTokens) functions without target tokens left out" }
        await ctx.log(loadMessage)
        if let k = p.folds {
            return .folds(try await runFolds(ctx, k: k, config: config, loaded: loaded, input: input, target: target,
                                             outputName: outputName, splitBy: p.splitBy, writer: writer, started: started,
                                             observer: foldObserver))
        }

        let dir = checkpointDirectory(ctx.dataDirectory, job: ctx.job.id)
        let shown = Checkpoints.relativePath(job: ctx.job.id)  // results and logs never show server paths
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let info = CheckpointInfo(jobID: ctx.job.id, inputSpace: input.name, inputKind: input.kind.rawValue, targetSpace: target.name,
                                  outputSpace: outputName, model: input.model, layer: input.layer)
        try info.write(to: dir)

        let feed = TrainingFeed()
        let hooks = TrainingHooks(
            onMetric: { step, name, value in feed.metric(step, name, value) },
            onProgress: { f, message in feed.progress(0.05 + 0.9 * f, message) },
            shouldCancel: { ctx.isCancelled },
            onCheckpoint: { _, epoch in
                feed.log("checkpoint after epoch \(epoch) in \(shown)")
                observer?(epoch)
            })
        let cfg = config
        let outcome = try await Self.compute(ctx, feeding: feed) {
            try train(dir: dir, shown: shown, config: cfg, data: loaded.data, hooks: hooks, feed: feed)
        }
        try ctx.checkCancelled()

        // The student space: one vector per function, in the centred, L2-normalised target space.
        try await storeStudent(ctx, name: outputName, target: target, ids: loaded.ids, values: outcome.predictions, writer: writer)

        let r = outcome.report
        let base = r.signatureMeanBaseline.map { String(format: ", sig_mean %.4f", $0.rank10) } ?? ""
        await ctx.log(String(format: "test Rank@1 %.4f, Rank@10 %.4f, MRR %.4f (random Rank@10 %.4f%@); best epoch %d of %d%@; stored %@",
                             r.test.rank1, r.test.rank10, r.test.mrr, r.randomBaseline.rank10, base, r.bestEpoch, r.epochs.count,
                             r.stoppedEarly ? " (stopped early)" : "", outputName))
        return .single(Result(report: r, config: outcome.config, inputSpace: input.name, targetSpace: target.name, outputSpace: outputName,
                      checkpoint: shown, splitBy: p.splitBy.rawValue, repositories: loaded.repositories,
                      duplicateGroups: loaded.groups, resumedFromEpoch: outcome.resumedAt,
                      seconds: Date().timeIntervalSince(started)))
    }

    /// Creates the student space `name` (unless an earlier attempt did) and writes `values`
    /// (`[ids.count, target.dim]`) in batches; progress runs from 0.95 to 1.
    static func storeStudent(_ ctx: JobContext, name: String, target: SpaceRecord, ids: [Int64], values: [Float],
                             writer: VectorWriter) async throws {
        if try await ctx.store.space(named: name) == nil {
            _ = try await ctx.store.createSpace(SpaceInput(name: name, model: "student.job-\(ctx.job.id)", layer: target.layer,
                                                           kind: .student, dim: target.dim, dtype: .float32, metric: .cosine,
                                                           indexFactory: "Flat"))
        }
        let dt = target.dim
        for start in stride(from: 0, to: ids.count, by: writeBatch) {
            try ctx.checkCancelled()
            let end = min(ids.count, start + writeBatch)
            let batch = VectorBatch(ids: Array(ids[start..<end]), values: Array(values[(start * dt)..<(end * dt)]))
            try await writer.upsert(space: name, batch)
            await ctx.progress(0.95 + 0.05 * Double(end) / Double(ids.count), "stored \(end)/\(ids.count) predictions")
        }
    }

    /// A `train` job's result: one split's (`Result`), or k folds' (`FoldsResult`).
    enum Output: Encodable, Sendable {
        case single(Result)
        case folds(FoldsResult)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .single(let r): try r.encode(to: encoder)
            case .folds(let r): try r.encode(to: encoder)
            }
        }
    }

    /// `train`'s result: the `TrainingReport` (snake_case keys) and, beside it, where things went.
    struct Result: Encodable, Sendable {
        var report: TrainingReport
        var config: TrainingConfig
        var inputSpace: String
        var targetSpace: String
        var outputSpace: String
        var checkpoint: String
        var splitBy: String
        var repositories: Int
        var duplicateGroups: Int
        var resumedFromEpoch: Int?
        var seconds: Double

        enum CodingKeys: String, CodingKey {
            case config, inputSpace = "input_space", targetSpace = "target_space", outputSpace = "output_space", checkpoint
            case splitBy = "split_by", repositories, duplicateGroups = "duplicate_groups", resumedFromEpoch = "resumed_from_epoch", seconds
        }

        func encode(to encoder: any Encoder) throws {
            // The report's fields at the top level, in the API's snake_case, then ours.
            var c = encoder.container(keyedBy: SettingKey.self)
            for (key, value) in try TrainJob.snakeJSON(report).objectValue ?? [:] { try c.encode(value, forKey: SettingKey(key)) }
            try c.encode(TrainJob.snakeJSON(config), forKey: SettingKey(CodingKeys.config.rawValue))
            func put<V: Encodable>(_ key: CodingKeys, _ value: V) throws { try c.encode(value, forKey: SettingKey(key.rawValue)) }
            try put(.inputSpace, inputSpace); try put(.targetSpace, targetSpace); try put(.outputSpace, outputSpace)
            try put(.checkpoint, checkpoint); try put(.splitBy, splitBy); try put(.repositories, repositories)
            try put(.duplicateGroups, duplicateGroups)
            try put(.resumedFromEpoch, resumedFromEpoch)  // null for a fresh run
            try put(.seconds, seconds)
        }
    }

    struct Outcome: Sendable {
        var report: TrainingReport
        var predictions: [Float]
        var config: TrainingConfig
        var resumedAt: Int?
    }

    /// Resumes from the checkpoint in `dir` when there is a usable one (else starts afresh), trains,
    /// and predicts every function (on a compute thread).
    static func train(dir: URL, shown: String, config cfg: TrainingConfig, data loadedData: TrainingData, hooks: TrainingHooks,
                      feed: TrainingFeed) throws -> Outcome {
        var resumedAt: Int?
        var trainer: Trainer?
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("config.json").path) {
            do {
                let t = try Trainer.resume(from: dir, data: loadedData, hooks: hooks)
                resumedAt = t.epochsDone
                feed.log("resuming from the checkpoint after epoch \(t.epochsDone) (step \(t.step)) in \(shown)")
                trainer = t
            } catch {
                feed.log("cannot resume from \(shown) (\((error as? APIError)?.message ?? "\(error)")); training from scratch", level: .warning)
                for f in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where f != CheckpointInfo.fileName {
                    try? FileManager.default.removeItem(at: dir.appendingPathComponent(f))
                }
            }
        }
        let t = try trainer ?? Trainer(config: cfg, data: loadedData, checkpointDirectory: dir, hooks: hooks)
        if resumedAt == nil {
            feed.log("\(t.config.model.kind.rawValue) with \(t.model.parameterCount) parameters, loss \(t.config.model.loss.rawValue); "
                     + "split \(t.split.train.count)/\(t.split.validation.count)/\(t.split.test.count); \(t.stepsPerEpoch) steps per epoch")
        }
        let report = try t.run()
        feed.progress(0.95, "predicting every function")
        return Outcome(report: report, predictions: try t.predictAll(), config: t.config, resumedAt: resumedAt)
    }

    /// Encodes with snake_case keys (Swift's camelCase fields as the API spells them).
    static func snakeJSON<T: Encodable>(_ value: T) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try JSONDecoder().decode(JSONValue.self, from: encoder.encode(value))
    }
}

/// Collects what the trainer reports on its compute thread; flushed to the job from async code
/// (metrics in one batch per second, the latest progress, log lines).
final class TrainingFeed: Sendable {
    private struct Pending {
        var points: [JobMetric] = []
        var latest: (Double, String)?
        var lines: [(LogLevel, String)] = []
    }
    private let pending = Mutex(Pending())

    func metric(_ step: Int, _ name: String, _ value: Double) {
        guard value.isFinite else { return }
        pending.withLock { $0.points.append(JobMetric(step: step, name: name, value: value)) }
    }

    func progress(_ fraction: Double, _ message: String) {
        pending.withLock { $0.latest = (fraction, message) }
    }

    func log(_ message: String, level: LogLevel = .info) {
        pending.withLock { $0.lines.append((level, message)) }
    }

    private func drain() -> ([JobMetric], (Double, String)?, [(LogLevel, String)]) {
        pending.withLock { p in
            defer { p = Pending() }
            return (p.points, p.latest, p.lines)
        }
    }

    func flush(to ctx: JobContext) async {
        let (p, l, ls) = drain()
        for (level, message) in ls { await ctx.log(message, level: level) }
        if !p.isEmpty { await ctx.metrics(p) }
        if let l { await ctx.progress(l.0, l.1) }
    }
}

extension TrainJob {
    /// Runs `body` on the job's compute threads while `feed` is flushed to the job every second, and
    /// once more when it ends (also when it fails). A worker shutting down (its task cancelled) gives
    /// the job back instead of finishing it: the lease runs out and the next attempt starts again
    /// (from the last checkpoint where one is kept).
    ///
    ///     let report = try await TrainJob.compute(ctx, feeding: feed) { try trainer.run() }
    static func compute<T: Sendable>(_ ctx: JobContext, feeding feed: TrainingFeed,
                                     _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let flusher = Task { [feed] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                await feed.flush(to: ctx)
            }
        }
        let value: T
        do {
            value = try await withTaskCancellationHandler {
                try await ctx.compute(body)
            } onCancel: {
                ctx.flags.set(lost: true)
            }
        } catch {
            flusher.cancel()
            await feed.flush(to: ctx)
            throw error is CancellationError ? JobCancelled() as any Error : error
        }
        flusher.cancel()
        await feed.flush(to: ctx)
        return value
    }
}
