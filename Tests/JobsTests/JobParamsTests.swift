import Core
import Foundation
import Testing
@testable import Jobs
@testable import Store
import TestSupport
import Training

/// Every job type's params are decoded once at submission (a 400 naming the field when a type is
/// wrong, a field missing or a value out of range; nothing queued) and the stored params decode into
/// the same struct when a worker claims the job.
@Suite struct JobParamsTests {
    /// (job type, params, the field the message must name). `DIR` is replaced by a real directory.
    static let bad: [(String, JSONValue, String)] = [
        ("sleep", [:], "seconds"), ("sleep", ["seconds": "long"], "seconds"), ("sleep", ["seconds": 90_000], "seconds"),
        ("sleep", ["seconds": 1, "hold_after_step": -2], "hold_after_step"), ("sleep", ["seconds": 1, "fail": "yes"], "fail"),
        ("ingest", [:], "path"), ("ingest", ["path": 7], "path"), ("ingest", ["path": "DIR", "skip_dirs": "tests"], "skip_dirs"),
        ("ingest", ["path": "DIR", "skip_dirs": ["a", 1]], "skip_dirs[1]"), ("ingest", ["path": "DIR", "split": "by_file"], "split"),
        ("ingest", ["path": "DIR", "history": "no"], "history"),
        ("embed", [:], "layers"), ("embed", ["layers": "some"], "layers"), ("embed", ["layers": [3], "batch_size": 0], "batch_size"),
        ("embed", ["layers": [3], "batch_size": 2.5], "batch_size"), ("embed", ["layers": [-1]], "'layers' has layer -1"),
        ("embed", ["layers": [3], "kinds": ["student"]], "kinds"), ("embed", ["layers": [3], "dtype": "float64"], "dtype"),
        ("probe", [:], "space"), ("probe", ["space": 3], "space"), ("probe", ["space": "s", "folds": 2.5], "folds"),
        ("probe", ["space": "s", "folds": 30], "folds"), ("probe", ["space": "s", "alphas": [1, "x"]], "alphas[1]"),
        ("probe", ["space": "s", "c": -1], "c"), ("probe", ["space": "s", "seed": -1], "seed"), ("probe", ["space": "s", "targets": 3], "targets"),
        ("probe", ["space": "s", "sample": 3], "sample"), ("probe", ["space": "s", "group_by": "module"], "group_by"),
        ("probe", ["space": "s", "folds_": 3], "folds_"),
        ("layer_sweep", ["sample": 5], "sample"), ("layer_sweep", ["folds": "5"], "folds"), ("layer_sweep", ["kinds": ["sig_tokens"]], "kinds"),
        ("layer_sweep", ["model": ""], "model"), ("layer_sweep", ["layers": [2000]], "'layers' has layer 2000"),
        ("neighbours", [:], "space"), ("neighbours", ["space": "s", "k": 0], "k"), ("neighbours", ["space": "s", "k": true], "k"),
        ("neighbours", ["space": "s", "exclude": "file"], "exclude"), ("neighbours", ["space": "s", "families": -1], "families"),
        ("train", ["target_space": "b"], "input_space"), ("train", ["input_space": "a", "target_space": 2], "target_space"),
        ("train", ["input_space": "a", "target_space": "b", "epochs": 0], "epochs"),
        ("train", ["input_space": "a", "target_space": "b", "lr": "fast"], "lr"),
        ("train", ["input_space": "a", "target_space": "b", "dropout": 1.5], "dropout"),
        ("train", ["input_space": "a", "target_space": "b", "batch_size": 3.5], "batch_size"),
        ("train", ["input_space": "a", "target_space": "b", "model": "rnn"], "model"),
        ("train", ["input_space": "a", "target_space": "b", "epoch": 3], "epoch"),
        // As the spec's JobSubmit says: unknown keys refused for every type, no explicit null, bounds.
        ("sleep", ["seconds": 1, "second": 1], "second"), ("sleep", ["seconds": 1, "steps": 0], "steps"),
        ("sleep", ["seconds": 1, "hold_after_step": 100_001], "hold_after_step"),
        ("ingest", ["path": "DIR", "skipdirs": ["a"]], "skipdirs"), ("ingest", ["path": " \t"], "path"),
        ("embed", ["layers": [3], "normalise": true], "normalise"),
        ("neighbours", ["space": "s", "families": .null], "families"), ("probe", ["space": "has space"], "space"),
        ("probe", ["space": "s", "seed": 9_007_199_254_740_992], "seed"),
        ("train", ["input_space": "a", "target_space": "b", "epochs": 1_000_000_001], "epochs"),
        ("train", ["input_space": "a", "target_space": "b", "queue_size": 4097], "queue_size"),
        ("train", ["input_space": "a", "target_space": "b", "seed": 9_007_199_254_740_992], "seed"),
        ("train", ["input_space": "a/b", "target_space": "b"], "input_space"),
    ]

    /// Params that fit the spec's schema but break a rule between fields (or name a token space
    /// where one vector per function is needed): 422, nothing queued.
    static let unprocessable: [(String, JSONValue, String)] = [
        ("probe", ["space": "m.L3.sig_tokens"], "wrong_space_kind"), ("neighbours", ["space": "m.L3.sig_tokens"], "wrong_space_kind"),
        ("train", ["input_space": "a", "target_space": "b", "lr": 0.1, "learning_rate": 0.2], "repeated_setting"),
        ("train", ["input_space": "a", "target_space": "b", "d_model": 30, "heads": 4], "invalid_combination"),
        ("train", ["input_space": "a", "target_space": "b", "loss": "smooth_l1", "hard_negatives": 2], "invalid_combination"),
        ("train", ["input_space": "a", "target_space": "b", "loss": "smooth_l1", "queue_size": 8], "invalid_combination"),
    ]

    @Test(arguments: Backend.all) func badParamsOfEveryJobTypeAreA400NamingTheField(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open(), workers: 0)
        #expect(Set(Self.bad.map(\.0)) == Set(runner.types), "every registered job type is covered")
        for (type, params, field) in Self.bad {
            let p = JSONValue.parse(params.jsonString().replacingOccurrences(of: "\"DIR\"", with: "\"\(dir.path)\""))!
            do {
                _ = try await runner.submit(type: type, params: p)
                Issue.record("accepted: \(type) \(p.jsonString())")
            } catch let e as APIError {
                #expect(e.status == 400 && e.code == "invalid_parameter", "\(type) \(p.jsonString()): \(e)")
                #expect(e.message.contains(field), "\(type) \(p.jsonString()): '\(e.message)' does not name \(field)")
            }
        }
        for (type, params, code) in Self.unprocessable {
            do {
                _ = try await runner.submit(type: type, params: params)
                Issue.record("accepted: \(type) \(params.jsonString())")
            } catch let e as APIError {
                #expect(e.status == 422 && e.code == code, "\(type) \(params.jsonString()): \(e)")
            }
        }
        #expect(try await runner.store.jobs(state: nil, type: nil, limit: 100).isEmpty, "nothing was queued")
        // A path outside the ingest roots is refused without saying whether it exists or echoing it.
        await #expect(throws: APIError.self) { _ = try await runner.submit(type: "ingest", params: ["path": "/no/such/dir"]) }
        do { _ = try await runner.submit(type: "ingest", params: ["path": "/no/such/dir"]) } catch let e as APIError {
            #expect(e.status == 403 && e.code == "ingest_path_forbidden" && !e.message.contains("/no/such/dir"))
        }
    }

    /// Submitted through the runner, stored in SQLite, claimed as a worker claims it: the stored
    /// params decode into the struct the submission was checked as, with the values sent and the defaults.
    @Test(arguments: Backend.all) func storedParamsRoundTripIntoTheirStruct(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open(), workers: 0)
        func stored<P: JobParams & Equatable>(_ type: String, _ params: JSONValue, as: P.Type) async throws -> P {
            let submitted = try P.decode(params, job: type)
            let job = try await runner.submit(type: type, params: params)
            let claimed = try #require(try await runner.store.claimJob(worker: "w", types: [type], leaseSeconds: 60))
            #expect(claimed.id == job.id && claimed.params == params)
            let p = try P.decode(claimed.params, job: type)
            #expect(p == submitted)
            return p
        }
        let sleep = try await stored("sleep", ["seconds": 0.5, "hold_after_step": 2], as: DiagnosticJobs.SleepParams.self)
        #expect(sleep.seconds == 0.5 && sleep.steps == 10 && !sleep.fail && sleep.holdAfterStep == 2)
        let ingest = try await stored("ingest", ["path": .string(dir.path), "skip_dirs": ["tests"], "split": "top_level"],
                                      as: IngestJob.Params.self)
        #expect(ingest.path == dir.path && ingest.name == nil && ingest.history && ingest.skipDirs == ["tests"] && ingest.split == .topLevel)
        let embed = try await stored("embed", ["layers": "all", "kinds": ["body_mean", "sig_mean"], "batch_size": 32], as: EmbedJob.Params.self)
        #expect(embed.layers == .all && embed.kinds == [.bodyMean, .sigMean] && embed.batchSize == 32 && embed.model == nil)
        #expect(embed.dtype == nil)
        let tokens = try await stored("embed", ["layers": [3], "kinds": ["body_tokens"], "dtype": "float32"], as: EmbedJob.Params.self)
        #expect(tokens.kinds == [.bodyTokens] && tokens.dtype == .float32)
        let defaults = try await stored("embed", ["layers": [3]], as: EmbedJob.Params.self)
        #expect(defaults.kinds == [.sigTokens, .sigMean, .bodyMean, .bodyOnlyMean] && defaults.dtype == nil)
        let probe = try await stored("probe", ["space": "m.L3.body_mean", "targets": "loc, is_async ,loc", "folds": 3, "alphas": [1, 10],
                                               "group_by": "file", "seed": 7], as: ProbeJob.Params.self)
        #expect(probe.space == "m.L3.body_mean" && probe.targets?.map(\.name) == ["loc", "is_async"] && probe.folds == 3)
        #expect(probe.alphas == [1, 10] && probe.groupBy == .file && probe.seed == 7 && probe.c == 1 && probe.sample == nil)
        let sweep = try await stored("layer_sweep", ["layers": [3, 0, 3], "sample": 100], as: LayerSweepJob.Params.self)
        #expect(sweep.layers == .list([3, 0]) && sweep.kinds == [.bodyMean] && sweep.sample == 100 && sweep.folds == 5)
        let neighbours = try await stored("neighbours", ["space": "s", "k": 4, "exclude": "self"], as: NeighboursJob.Params.self)
        #expect(neighbours.k == 4 && neighbours.exclude == .self && neighbours.minRepositories == 3 && neighbours.families == 20)
        let train = try await stored("train", ["input_space": "a", "target_space": "b", "model": "mlp", "loss": "smooth_l1",
                                               "lr": 1e-3, "ffn_dim": 128, "epochs": 3, "split_by": "directory"], as: TrainJob.Params.self)
        #expect(train.inputSpace == "a" && train.targetSpace == "b" && train.outputSpace == nil && train.splitBy == .directory)
        var expected = TrainingConfig.defaults
        expected.model.kind = .mlp; expected.model.loss = .smoothL1; expected.optimizer.learningRate = 1e-3
        expected.model.ffnDim = 128; expected.epochs = 3
        #expect(train.config == expected)
    }

    /// The settings list covers every field of the config file once, and config files decode through it.
    @Test func trainSettingsAreTheConfigFieldsOnce() throws {
        let encoded = try JSONValue.from(TrainingConfig.defaults)
        var fields = Set(encoded.objectValue!.keys.filter { $0 != "model" && $0 != "optimizer" })
        fields.formUnion(encoded["model"]!.objectValue!.keys.map { "model.\($0)" })
        fields.formUnion(encoded["optimizer"]!.objectValue!.keys.map { "optimizer.\($0)" })
        let declared = TrainingConfig.settings.map { $0.section == .root ? $0.field : "\($0.section.rawValue).\($0.field)" }
        #expect(Set(declared).count == declared.count, "a field is declared twice")
        #expect(fields.subtracting(declared).isEmpty, "fields without a setting: \(fields.subtracting(declared).sorted())")
        let names = TrainingConfig.settings.flatMap(\.names)
        #expect(Set(names).count == names.count, "a name is used twice")
        var changed = TrainingConfig.defaults
        changed.model.heads = 4; changed.optimizer.warmupSteps = 9; changed.patience = 0
        #expect(try JSONDecoder().decode(TrainingConfig.self, from: JSONEncoder().encode(changed)) == changed)
        #expect(TrainingConfig.setting("learning_rate")?.name == "lr" && TrainingConfig.setting("epochs")?.defaultText == "10")
    }

    /// Ingestion's stored properties are one flat object whose probe-able keys are the probes' defaults.
    @Test func storedPropertiesAreTheProbeTargets() throws {
        let p = FunctionProperties(loc: 4, cyclomaticComplexity: 2, branches: 1, loops: 0, returns: 1, arguments: 2, apiCalls: 3,
                                   returnAnnotation: .container, hasDocstring: true, hasDecorators: false, isMethod: true, isAsync: false)
        let stored = StoredProperties(properties: p, position: SourcePosition(defLine: 3, startByte: 10, endByte: 90, bodyStartByte: 40),
                                      history: HistoryCounts(commits: 5, authors: 2, fileCommits: 7))
        let json = try JSONValue.from(stored)
        #expect(json["n_args"] == 2 && json["return_category"] == "container" && json["file_commits"] == 7 && json["def_line"] == 3)
        #expect(try json.decode(StoredProperties.self) == stored)
        let keys = Set(json.objectValue!.keys)
        #expect(keys == Set(TargetSpec.defaults + ["def_line", "start_byte", "end_byte", "body_start_byte"]))
        #expect(TargetSpec(name: "n_loops").kind == .count && TargetSpec(name: "is_method").kind == .category)
        var noHistory = stored
        noHistory.history = nil
        #expect(try JSONValue.from(noHistory)["commits"] == nil)
    }
}
