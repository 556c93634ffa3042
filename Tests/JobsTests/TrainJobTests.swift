import Core
import Foundation
import Testing
import Training
@testable import Jobs
import Services
@testable import Store
import TestSupport

/// A synthetic corpus with a real signal: R repositories × N functions; each function has 2…6 random
/// signature tokens of dim `din`, and its body target is a fixed random linear map of the tokens'
/// mean plus a little noise. Two functions per repository share a body (a duplicate group).
struct SyntheticCorpus {
    static let din = 16, dt = 16
    let ids: [Int64]
    let input = "synthetic.L1.sig_tokens", target = "synthetic.L1.body_mean", sigMean = "synthetic.L1.sig_mean"

    init(store: any StoreBackend, repositories: Int = 4, perRepository: Int = 50, seed: UInt64 = 7) async throws {
        var rng = TestRNG(seed)
        var items = [FunctionInput]()
        for r in 0..<repositories {
            for i in 0..<perRepository {
                let body = i < 2 ? "    return -\(r)\n" : "    return \(r * 1000 + i)\n"  // i = 0 and 1 share a body
                items.append(FunctionInput(repo: "repo\(r)", path: "pkg\(i % 3)/m\(i).py", qualifiedName: "f\(i)", startLine: 1, endLine: 2,
                                           signature: "def f\(i)(x):", body: body))
            }
        }
        ids = try await store.upsertFunctions(items).ids
        let (din, dt) = (Self.din, Self.dt)
        let w = (0..<(din * dt)).map { _ in Float(rng.normal() / Double(din).squareRoot()) }
        var tokens = VectorBatch(ids: [], rows: [], values: [])
        var means = [Float](), targets = [Float]()
        for id in ids {
            let rows = 2 + Int(rng.next() % 5)
            var mean = [Float](repeating: 0, count: din)
            for _ in 0..<rows {
                let v = (0..<din).map { _ in Float(rng.normal()) }
                tokens.values += v
                for j in 0..<din { mean[j] += v[j] / Float(rows) }
            }
            tokens.ids.append(id)
            tokens.rows.append(rows)
            means += mean
            for k in 0..<dt {
                var s: Float = 0
                for j in 0..<din { s += w[k * din + j] * mean[j] }
                targets.append(s + Float(0.05 * rng.normal()))
            }
        }
        for (name, kind, dim) in [(input, SpaceKind.sigTokens, din), (target, .bodyMean, dt), (sigMean, .sigMean, din)] {
            _ = try await store.createSpace(SpaceInput(name: name, model: "synthetic", layer: 1, kind: kind, dim: dim))
        }
        try await store.upsertVectors(space: input, tokens)
        try await store.upsertVectors(space: target, VectorBatch(ids: ids, values: targets))
        try await store.upsertVectors(space: sigMean, VectorBatch(ids: ids, values: means))
    }

    /// A tiny sig_predictor with InfoNCE that learns the map in a few seconds.
    var tinyParams: JSONValue {
        ["input_space": .string(input), "target_space": .string(target), "model": "sig_predictor", "loss": "infonce",
         "d_model": 32, "layers": 1, "heads": 4, "ffn": 64, "epochs": 6, "batch_size": 32, "lr": 0.003, "dropout": 0,
         "patience": 0, "seed": 1]
    }
}

/// SplitMix64 with Box–Muller normals (test data only).
struct TestRNG {
    var base: SplitMix64
    init(_ seed: UInt64) { base = SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { base.next() }
    mutating func uniform() -> Double { base.uniform() }
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }
}

/// Structural equality of two JSON values with numbers compared to `relative` (of the larger magnitude, floor 1).
func jsonClose(_ a: JSONValue?, _ b: JSONValue?, relative: Double) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case let (.number(x)?, .number(y)?): return abs(x - y) <= relative * max(1, abs(x), abs(y))
    case let (.array(x)?, .array(y)?): return x.count == y.count && zip(x, y).allSatisfy { jsonClose($0, $1, relative: relative) }
    case let (.object(x)?, .object(y)?):
        return Set(x.keys) == Set(y.keys) && x.keys.allSatisfy { jsonClose(x[$0], y[$0], relative: relative) }
    default: return a == b
    }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

@Suite(.serialized) struct TrainJobTests {
    /// Runs a claimed train job as a worker does: its stored params decoded into `TrainJob.Params`,
    /// the result as the JSON the runner stores.
    static func run(_ ctx: JobContext, observer: (@Sendable (Int) -> Void)? = nil) async throws -> JSONValue {
        let p = try TrainJob.Params.decode(ctx.params, job: "train")
        return try JSONValue.from(try await TrainJob.run(ctx, p, writer: VectorWriter(store: ctx.store, search: nil), observer: observer))
    }

    /// Queues a train job with `fields` and claims it as `worker` would (a negative lease is one
    /// already run out); the context to run it in.
    static func claim(_ store: any StoreBackend, _ fields: [String: JSONValue], worker: String, leaseSeconds: Double = 600,
                      dataDirectory: URL) async throws -> JobContext {
        let queued = try await store.createJob(type: "train", params: .object(fields), maxAttempts: 3)
        let claimed = try #require(try await store.claimJob(worker: worker, types: ["train"], leaseSeconds: leaseSeconds))
        #expect(claimed.id == queued.id)
        return JobContext(job: claimed, store: store, worker: worker, dataDirectory: dataDirectory)
    }

    /// Starts the runner, waits for the job to end, stops the runner; the result of a job that succeeded.
    static func finish(_ runner: JobRunner, job id: Int64) async throws -> JSONValue {
        runner.start()
        #expect(try await eventually(120) { try await runner.store.job(id: id)?.state.isFinal == true })
        await runner.stop()
        let done = try #require(try await runner.store.job(id: id))
        #expect(done.state == .succeeded, "train job: \(done.error ?? "")")
        return try #require(done.result)
    }

    @Test(arguments: Backend.all) func aTrainJobLearnsTheSignalStoresTheStudentSpaceAndPredictsTheSame(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open())
        let store = runner.store
        let corpus = try await SyntheticCorpus(store: store)
        let job = try await runner.submit(type: "train", params: corpus.tinyParams)
        let r = try await Self.finish(runner, job: job.id)

        // Learned: the test functions' true bodies rank far better than chance, in the same report.
        let rank10 = try #require(r["test"]?["rank10"]?.doubleValue)
        let random10 = try #require(r["random_baseline"]?["rank10"]?.doubleValue)
        print("train job: test Rank@10 \(rank10), Rank@1 \(r["test"]?["rank1"]?.doubleValue ?? -1), random Rank@10 \(random10), sig_mean Rank@10 \(r["signature_mean_baseline"]?["rank10"]?.doubleValue ?? -1)")
        #expect(rank10 > random10 + 0.3)
        #expect(r["corpus_count"]?.intValue == corpus.ids.count)
        #expect(r["train_count"]!.intValue! + r["validation_count"]!.intValue! + r["test_count"]!.intValue! == corpus.ids.count)
        #expect(r["repositories"] == 4 && r["duplicate_groups"]?.intValue == corpus.ids.count - 4)
        #expect(r["config"]?["model"]?["d_model"] == 32 && r["config"]?["model"]?["loss"] == "info_nce")
        #expect(r["resumed_from_epoch"] == .null)
        let epochs = try #require(r["epochs"]?.arrayValue?.count)
        #expect(epochs == 6)

        // The time series: one train/loss point per step, one val/rank10 per epoch, the test figures once.
        let steps = try #require(r["steps"]?.intValue)
        #expect(try await store.jobMetrics(job: job.id, name: "train/loss", afterStep: nil).count == steps)
        #expect(try await store.jobMetrics(job: job.id, name: "val/rank10", afterStep: nil).count == epochs)
        let test10 = try await store.jobMetrics(job: job.id, name: "test/rank10", afterStep: nil)
        #expect(test10.map(\.value) == [rank10])
        #expect(try await store.jobMetrics(job: job.id, name: "baseline_random/rank10", afterStep: nil).map(\.value) == [random10])
        let valSeries = try await store.jobMetrics(job: job.id, name: "val/rank10", afterStep: nil).map(\.value)
        #expect(valSeries == r["epochs"]?.arrayValue?.compactMap { $0["validation"]?["rank10"]?.doubleValue })

        // The student space: one unit vector per function.
        let name = try #require(r["output_space"]?.stringValue)
        #expect(name == "student.job-\(job.id)")
        let space = try #require(try await store.space(named: name))
        #expect(space.kind == .student && space.dim == SyntheticCorpus.dt && space.count == corpus.ids.count)
        let stored = try await store.vectors(space: name, ids: nil)
        #expect(stored.ids == corpus.ids.sorted())
        for i in 0..<stored.ids.count {
            let v = stored.values[(i * space.dim)..<((i + 1) * space.dim)]
            #expect(abs(v.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
        }

        // The reported test metrics and sig_mean baseline recomputed from the stored vectors.
        try await expectReportMatchesStoredVectors(r, store: store, corpus: corpus, student: name)

        // The checkpoint predicts what was stored.
        let ckpt = TrainJob.checkpointDirectory(dir, job: job.id)
        // Shown relative to the data directory: neither the result nor the logs carry server paths.
        #expect(r["checkpoint"]?.stringValue == "checkpoints/job-\(job.id)")
        let logs = try await store.jobLogs(job: job.id, afterID: nil, limit: 10_000)
        #expect(logs.contains { $0.message.contains("checkpoints/job-\(job.id)") })
        #expect(!logs.contains { $0.message.contains(dir.path) })
        #expect(!r.jsonString().contains(dir.path))
        #expect(FileManager.default.fileExists(atPath: ckpt.appendingPathComponent("config.json").path))
        let source = try await StudentPredictions.resolve(store: store, dataDirectory: dir, jobID: job.id, checkpoint: nil)
        #expect(source.info?.inputSpace == corpus.input && source.info?.outputSpace == name)
        let some = Array(corpus.ids.shuffled().prefix(37))
        let predicted = try await StudentPredictions.predict(source, store: store, functionIDs: some)
        let expected = try await store.vectors(space: name, ids: some)
        let diff = maxAbsDiff(predicted.values, expected.values)
        print("predict vs stored student vectors: max abs diff \(diff)")
        #expect(predicted.dim == space.dim && diff <= 1e-5)
        let byDir = try await StudentPredictions.resolve(store: store, dataDirectory: dir, jobID: nil, checkpoint: "job-\(job.id)")
        #expect(maxAbsDiff(try await StudentPredictions.predict(byDir, store: store, functionIDs: some).values, predicted.values) <= 1e-5)
    }

    @Test(arguments: Backend.all) func anMLPWithSmoothL1OnSigMeanBeatsChance(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open())
        let store = runner.store
        let corpus = try await SyntheticCorpus(store: store, seed: 11)
        let job = try await runner.submit(type: "train", params: [
            "input_space": .string(corpus.sigMean), "target_space": .string(corpus.target), "model": "mlp", "loss": "smooth_l1",
            "mlp_hidden": 64, "epochs": 8, "batch_size": 16, "lr": 0.01, "dropout": 0, "patience": 0, "output_space": "mlp.student",
        ])
        let r = try await Self.finish(runner, job: job.id)
        let test10 = try #require(r["test"]?["rank10"]?.doubleValue), random10 = try #require(r["random_baseline"]?["rank10"]?.doubleValue)
        print("mlp+smooth_l1: test Rank@10 \(test10), random \(random10)")
        #expect(test10 > random10 + 0.2)
        #expect(try await store.space(named: "mlp.student")?.count == corpus.ids.count)
        try await expectReportMatchesStoredVectors(r, store: store, corpus: corpus, student: "mlp.student")
    }

    /// `queue_size` reaches the trainer through the job: the student learns with a negative queue of
    /// 64 entries, and the job's checkpoint keeps the setting and the queue's 64 functions.
    @Test(arguments: Backend.all) func anMLPWithANegativeQueueLearnsAndCheckpointsTheQueue(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open())
        let corpus = try await SyntheticCorpus(store: runner.store, seed: 12)
        let job = try await runner.submit(type: "train", params: [
            "input_space": .string(corpus.sigMean), "target_space": .string(corpus.target), "model": "mlp", "loss": "infonce",
            "mlp_hidden": 64, "epochs": 6, "batch_size": 16, "lr": 0.01, "dropout": 0, "patience": 0, "queue_size": 64,
        ])
        let r = try await Self.finish(runner, job: job.id)
        let test10 = try #require(r["test"]?["rank10"]?.doubleValue), random10 = try #require(r["random_baseline"]?["rank10"]?.doubleValue)
        print("mlp+infonce, queue 64: test Rank@10 \(test10), random \(random10)")
        #expect(test10 > random10 + 0.2)
        let manifest = try CheckpointManifest.read(TrainJob.checkpointDirectory(dir, job: job.id))
        #expect(manifest.config.queueSize == 64 && manifest.negativeQueue?.functions.count == 64)
    }

    /// A worker that loses its job after epoch 2 (its lease ran out: the same as dying, from the
    /// job's point of view) leaves a checkpoint; attempt 2 resumes from it and ends exactly where an
    /// uninterrupted run with the same parameters ends.
    @Test(arguments: Backend.all) func attemptTwoResumesFromTheCheckpointAndMatchesAnUninterruptedRun(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let store = db.store
        let corpus = try await SyntheticCorpus(store: store, seed: 3)
        var fields = corpus.tinyParams.objectValue!
        fields["epochs"] = 4

        // The uninterrupted reference.
        let ctxA = try await Self.claim(store, fields, worker: "w-a", dataDirectory: dir)
        let a = ctxA.job
        let reference = try await Self.run(ctxA)

        // Attempt 1 is lost right after the checkpoint of epoch 2.
        let ctx1 = try await Self.claim(store, fields, worker: "w-dead", leaseSeconds: -1, dataDirectory: dir)
        let b = ctx1.job
        #expect(b.attempt == 1)
        await #expect(throws: JobCancelled.self) {
            _ = try await Self.run(ctx1, observer: { epoch in if epoch == 2 { ctx1.flags.set(lost: true) } })
        }
        let partial = try Data(contentsOf: TrainJob.checkpointDirectory(dir, job: b.id).appendingPathComponent("config.json"))
        #expect(JSONValue.parse(String(decoding: partial, as: UTF8.self))?["epoch"] == 2)
        #expect(try await store.space(named: "student.job-\(b.id)") == nil)

        // Attempt 2 (the lease expired, another worker claims it).
        let second = try #require(try await store.claimJob(worker: "w-2", types: ["train"], leaseSeconds: 600))
        #expect(second.id == b.id && second.attempt == 2)
        let resumed = try await Self.run(JobContext(job: second, store: store, worker: "w-2", dataDirectory: dir))
        #expect(resumed["resumed_from_epoch"] == 2)
        let logs = try await store.jobLogs(job: b.id, afterID: nil, limit: 1000).map(\.message)
        #expect(logs.contains { $0.hasPrefix("resuming from the checkpoint after epoch 2") })

        // Same epochs (losses, validation ranks), same test metrics, same student vectors. Bit-exact
        // resume is TrainerTests.resumeEqualsUninterruptedRun's claim (BLAS pinned to one thread there);
        // here other suites of the same process may change BLAS.threads between the two runs, and a
        // different split of the threaded loops moves sums by a few ulps (1e-7 seen): numbers agree to
        // 1e-5 relative, everything else (epoch count, best epoch, steps) exactly.
        #expect(jsonClose(resumed["epochs"], reference["epochs"], relative: 1e-5), "\(String(describing: resumed["epochs"])) vs \(String(describing: reference["epochs"]))")
        #expect(jsonClose(resumed["test"], reference["test"], relative: 1e-5) && resumed["best_epoch"] == reference["best_epoch"])
        #expect(resumed["steps"] == reference["steps"])
        let va = try await store.vectors(space: "student.job-\(a.id)", ids: nil)
        let vb = try await store.vectors(space: "student.job-\(b.id)", ids: nil)
        #expect(va.ids == vb.ids)
        let diff = maxAbsDiff(va.values, vb.values)
        print("resumed vs uninterrupted student vectors: max abs diff \(diff)")
        #expect(diff <= 1e-6)
    }

    /// A worker shutting down (its task cancelled mid-training) gives the job back: the job ends
    /// with the lease marked lost (so the runner records nothing and the next attempt resumes),
    /// not as cancelled.
    @Test(arguments: Backend.all) func aCancelledWorkerTaskGivesTheJobBack(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let store = db.store
        let corpus = try await SyntheticCorpus(store: store, seed: 5)
        var fields = corpus.tinyParams.objectValue!
        fields["epochs"] = 50
        let ctx = try await Self.claim(store, fields, worker: "w", dataDirectory: dir)
        let claimed = ctx.job
        // The task, to cancel from the observer (it runs on the compute thread), and the epochs seen.
        final class Box: Sendable {
            let state = Mutex<(task: Task<JSONValue, any Error>?, epochs: [Int])>((nil, []))
        }
        let box = Box()
        let task = Task {
            try await Self.run(ctx, observer: { epoch in
                box.state.withLock { b in
                    b.epochs.append(epoch)
                    if epoch == 1 { b.task?.cancel() }
                }
            })
        }
        box.state.withLock { $0.task = task }
        await #expect(throws: JobCancelled.self) { _ = try await task.value }
        #expect(ctx.flags.lost)
        let epochs = box.state.withLock { $0.epochs }
        #expect(!epochs.isEmpty && epochs.count < 50, "epochs checkpointed: \(epochs)")
        #expect(try await store.space(named: "student.job-\(claimed.id)") == nil)
    }

    @Test func badParamsAreRefusedAtSubmission() throws {
        let dir = try makeTemporaryDirectory("jobs"), other = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir); removeTemporaryDirectory(other) }
        let runner = JobRunner(store: try SQLiteStore(directory: dir), dataDirectory: other, workers: 0)
        JobTypes.registerAll(on: runner, writer: VectorWriter(store: runner.store, search: nil))
        let ok: [String: JSONValue] = ["input_space": "a", "target_space": "b"]
        try runner.validate(type: "train", params: .object(ok))
        try runner.validate(type: "train", params: .object(ok.merging(["model": "mlp", "loss": "smooth_l1", "epochs": 3, "lr": 1e-3,
                                                                       "symmetric": true, "ffn_dim": 128, "split_by": "directory"]) { $1 }))
        try runner.validate(type: "train", params: .object(ok.merging(["queue_size": 4096, "symmetric": true]) { $1 }))
        try runner.validate(type: "train", params: .object(ok.merging(["model": "token_decoder", "target_tokens_space": "t", "max_target_tokens": 512,
                                                                      "decoder_layers": 2, "token_loss_weight": 0.25]) { $1 }))
        let bad: [(String, [String: JSONValue])] = [
            ("no input space", ["target_space": "b"]),
            ("empty target", ["input_space": "a", "target_space": ""]),
            ("unknown model", ok.merging(["model": "transformer"]) { $1 }),
            ("unknown loss", ok.merging(["loss": "l2"]) { $1 }),
            ("negative epochs", ok.merging(["epochs": -1]) { $1 }),
            ("zero epochs", ok.merging(["epochs": 0]) { $1 }),
            ("fractional batch", ok.merging(["batch_size": 3.5]) { $1 }),
            ("batch of 1", ok.merging(["batch_size": 1]) { $1 }),
            ("negative lr", ok.merging(["lr": -0.1]) { $1 }),
            ("lr as text", ok.merging(["lr": "fast"]) { $1 }),
            ("dropout 1.5", ok.merging(["dropout": 1.5]) { $1 }),
            ("heads do not divide", ok.merging(["d_model": 30, "heads": 4]) { $1 }),
            ("hard negatives with smooth_l1", ok.merging(["loss": "smooth_l1", "hard_negatives": 4]) { $1 }),
            ("queue over 4096", ok.merging(["queue_size": 4097]) { $1 }),
            ("negative queue", ok.merging(["queue_size": -1]) { $1 }),
            ("queue with smooth_l1", ok.merging(["loss": "smooth_l1", "queue_size": 64]) { $1 }),
            ("two names for one setting", ok.merging(["lr": 0.1, "learning_rate": 0.2]) { $1 }),
            ("typo", ok.merging(["epoch": 3]) { $1 }),
            ("bad split", ok.merging(["split_by": "file"]) { $1 }),
            ("max_target_tokens over 512", ok.merging(["model": "token_decoder", "target_tokens_space": "t", "max_target_tokens": 513]) { $1 }),
            ("negative decoder_layers", ok.merging(["model": "token_decoder", "target_tokens_space": "t", "decoder_layers": -1]) { $1 }),
            ("negative token_loss_weight", ok.merging(["model": "token_decoder", "target_tokens_space": "t", "token_loss_weight": -1]) { $1 }),
            ("token_decoder without target tokens", ok.merging(["model": "token_decoder"]) { $1 }),
            ("target tokens for sig_predictor", ok.merging(["target_tokens_space": "t"]) { $1 }),
            ("token_decoder with smooth_l1", ok.merging(["model": "token_decoder", "target_tokens_space": "t", "loss": "smooth_l1"]) { $1 }),
        ]
        for (what, params) in bad {
            do {
                try runner.validate(type: "train", params: .object(params))
                Issue.record("accepted: \(what)")
            } catch {
                // A job's own check (APIError) or Training's (TrainingError): a 400 for what the spec's
                // schema states, a 422 for rules between settings (the spec's JobSubmit says which).
                let between = ["heads do not divide", "hard negatives with smooth_l1", "queue with smooth_l1",
                               "two names for one setting", "token_decoder without target tokens", "target tokens for sig_predictor",
                               "token_decoder with smooth_l1"].contains(what)
                #expect(APIError(error).status == (between ? 422 : 400), "\(what): \(error)")
            }
        }
    }

    @Test(arguments: Backend.all) func runTimeProblemsFailTheJobWithAClearMessage(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open())
        let store = runner.store
        let corpus = try await SyntheticCorpus(store: store, repositories: 2, perRepository: 10)
        _ = try await store.createSpace(SpaceInput(name: "taken", kind: .student, dim: SyntheticCorpus.dt))
        let cases: [(JSONValue, String)] = [
            (["input_space": "nope", "target_space": .string(corpus.target)], "input space 'nope' does not exist"),
            (["input_space": .string(corpus.input), "target_space": .string(corpus.input)], "holds token matrices"),
            (["input_space": .string(corpus.input), "target_space": .string(corpus.target), "output_space": "taken"], "already exists"),
            (["input_space": .string(corpus.input), "target_space": .string(corpus.target)], "at least 3 repositories"),
        ]
        var ids = [Int64]()
        for (params, _) in cases { ids.append(try await runner.submit(type: "train", params: params, maxAttempts: 1).id) }
        runner.start()
        #expect(try await eventually(120) {
            try await store.jobs(state: .failed, type: "train", limit: 10).count == cases.count
        })
        await runner.stop()
        for (id, (_, message)) in zip(ids, cases) {
            let error = try await store.job(id: id)?.error ?? ""
            #expect(error.contains(message), "job \(id): \(error)")
        }
    }
}

/// Recomputes the job's test metrics (from the stored student vectors) and its sig_mean baseline
/// (from the stored sig_mean vectors) in Double against the stored targets: the split comes from
/// `DataSplit.byRepository` over the sorted repository names with the job's seed, the targets are
/// centred on the train mean, duplicate groups are shared body hashes.
func expectReportMatchesStoredVectors(_ r: JSONValue, store: any StoreBackend, corpus: SyntheticCorpus, student: String,
                                      sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let ids = corpus.ids.sorted()
    let facts = try await store.functionFacts(ids: ids)
    let repoNames = Set(ids.map { facts[$0]!.repo }).sorted()
    let repos = ids.map { repoNames.firstIndex(of: facts[$0]!.repo)! }
    var hashIndex = [String: Int]()
    for id in ids where hashIndex[facts[id]!.bodyHash] == nil { hashIndex[facts[id]!.bodyHash] = hashIndex.count }
    let groups = ids.map { hashIndex[facts[$0]!.bodyHash]! }
    let seed = UInt64(try #require(r["config"]?["seed"]?.intValue, sourceLocation: sourceLocation))
    let split = try DataSplit.byRepository(repos, seed: seed)
    #expect(r["test_count"]?.intValue == split.test.count && r["train_count"]?.intValue == split.train.count, sourceLocation: sourceLocation)
    let dt = SyntheticCorpus.dt
    let targets = try await store.vectors(space: corpus.target, ids: ids)
    #expect(targets.ids == ids, sourceLocation: sourceLocation)
    let database = naiveCentredUnitRows(targets.values, dim: dt, meanOver: split.train)
    let stored = try await store.vectors(space: student, ids: ids)
    #expect(stored.ids == ids, sourceLocation: sourceLocation)
    let predictions = split.test.map { i in (0..<dt).map { Double(stored.values[i * dt + $0]) } }
    let wantTest = naiveRankMetrics(queries: predictions, truth: split.test, database: database, groups: groups)
    let means = try await store.vectors(space: corpus.sigMean, ids: ids)
    let sigRows = naiveCentredUnitRows(means.values, dim: dt, meanOver: split.train)
    let wantSig = naiveRankMetrics(queries: split.test.map { sigRows[$0] }, truth: split.test, database: database, groups: groups)
    func check(_ got: JSONValue?, _ want: NaiveMetrics, _ what: String) throws {
        let g = try #require(got, "\(what) missing", sourceLocation: sourceLocation)
        let r1 = try #require(g["rank1"]?.doubleValue, sourceLocation: sourceLocation)
        let r10 = try #require(g["rank10"]?.doubleValue, sourceLocation: sourceLocation)
        let mrr = try #require(g["mrr"]?.doubleValue, sourceLocation: sourceLocation)
        let count = try #require(g["count"]?.intValue, sourceLocation: sourceLocation)
        #expect(want.contains(rank1: r1, rank10: r10, mrr: mrr, count: count), "\(what): job \(g.jsonString()) vs \(want)",
                sourceLocation: sourceLocation)
    }
    try check(r["test"], wantTest, "test")
    try check(r["signature_mean_baseline"], wantSig, "signature_mean_baseline")
}
