import Core
import Foundation
import Testing
import Training
@testable import Jobs
import Services
@testable import Store
import TestSupport

/// `train` with `folds`: k models over repository folds, per-fold results, mean ± std, out-of-fold
/// student vectors; bad values refused at submission; cancellation between and within folds.
@Suite(.serialized) struct TrainJobFoldsTests {
    /// Every function in exactly one test fold, no repository in two folds or in two parts of a fold's
    /// split, the same folds for the same seed, balanced fold sizes; too many folds are refused.
    @Test func foldsPartitionTheRepositoriesAndDependOnlyOnTheSeed() throws {
        var rng = TestRNG(5)
        // 23 repositories of 1…40 functions, their functions interleaved.
        let sizes = (0..<23).map { _ in 1 + Int(rng.next() % 40) }
        var repos = sizes.enumerated().flatMap { r, n in [Int](repeating: r, count: n) }
        repos.shuffle(using: &rng.base)
        for k in [2, 3, 5, 20, 23] {
            let folds = try DataSplit.folds(repos, k: k, seed: 9)
            #expect(folds.count == k)
            #expect(folds.flatMap(\.test).sorted() == Array(repos.indices), "k \(k): each function in exactly one test fold")
            var foldOf = [Int: Int]()
            for (i, f) in folds.enumerated() {
                for j in f.test { #expect(foldOf.updateValue(i, forKey: repos[j]) ?? i == i, "repository \(repos[j]) in two folds") }
                let parts = [f.train, f.validation, f.test].map { Set($0.map { repos[$0] }) }
                #expect(!f.train.isEmpty && !f.validation.isEmpty && !f.test.isEmpty)
                #expect(parts[0].isDisjoint(with: parts[1]) && parts[0].isDisjoint(with: parts[2]) && parts[1].isDisjoint(with: parts[2]))
                #expect((f.train + f.validation + f.test).sorted() == Array(repos.indices), "fold \(i) of \(k) covers every function once")
            }
            // Least-loaded assignment: no fold exceeds another by more than the largest repository.
            let counts = folds.map(\.test.count)
            #expect(counts.max()! - counts.min()! <= sizes.max()!, "k \(k): \(counts)")
            #expect(try DataSplit.folds(repos, k: k, seed: 9) == folds)
        }
        #expect(try DataSplit.folds(repos, k: 5, seed: 10) != DataSplit.folds(repos, k: 5, seed: 9))
        #expect(throws: TrainingError.self) { try DataSplit.folds(repos, k: 24, seed: 0) }
        #expect(throws: TrainingError.self) { try DataSplit.folds([0, 0, 1, 1], k: 2, seed: 0) }
        // 3 repositories, 2 folds: one fold holds 2 repositories and leaves 1 for train and validation.
        #expect(throws: TrainingError.self) { try DataSplit.folds([0, 1, 2], k: 2, seed: 0) }
    }

    /// A 3-fold job on 6 repositories: the folds' test ids partition the corpus by repository as
    /// `DataSplit.folds` says for the seed, the summary is the folds' mean and sample std, each fold's
    /// test metrics and sig_mean baseline are recomputed from the stored (out-of-fold) student vectors
    /// and the stored targets, the metrics carry the fold, and no checkpoint is written.
    @Test(arguments: Backend.all) func aFoldsJobReportsEveryFoldAndTheirMeanAndStd(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open())
        let store = runner.store
        let corpus = try await SyntheticCorpus(store: store, repositories: 6, perRepository: 30, seed: 21)
        var params = corpus.tinyParams.objectValue!
        params["folds"] = 3
        params["seed"] = 4
        let job = try await runner.submit(type: "train", params: .object(params))
        let r = try await TrainJobTests.finish(runner, job: job.id)
        let folds = try #require(r["fold_results"]?.arrayValue)
        #expect(r["folds"] == 3 && folds.count == 3 && r["checkpoint"] == .null)
        #expect(r["corpus_count"]?.intValue == corpus.ids.count && r["repositories"] == 6)

        // The partition: by repository, every function once, as the seed's folds.
        let ids = corpus.ids.sorted()
        let facts = try await store.functionFacts(ids: ids)
        let repoNames = Set(ids.map { facts[$0]!.repo }).sorted()
        let repos = ids.map { repoNames.firstIndex(of: facts[$0]!.repo)! }
        let splits = try DataSplit.folds(repos, k: 3, seed: 4)
        let testIDs = try folds.map { f in try #require(f["test_function_ids"]?.arrayValue?.compactMap { $0.intValue.map(Int64.init) }) }
        #expect(testIDs.flatMap { $0 }.sorted() == ids)
        for (i, t) in testIDs.enumerated() {
            #expect(folds[i]["fold"]?.intValue == i)
            #expect(Set(t.map { facts[$0]!.repo }).isDisjoint(with: testIDs.enumerated().filter { $0.offset != i }.flatMap { $0.element.map { facts[$0]!.repo } }))
            #expect(t.sorted() == splits[i].test.map { ids[$0] }, "fold \(i)'s test ids")
            #expect(folds[i]["test_count"]?.intValue == t.count && folds[i]["train_count"]?.intValue == splits[i].train.count)
        }

        // The summary: mean and sample std (n − 1) of the folds' test metrics, recomputed in Double.
        for key in ["rank1", "rank10", "mrr"] {
            let values = try folds.map { try #require($0["test"]?[key]?.doubleValue) }
            let mean = values.reduce(0, +) / 3
            let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
            let got = try #require(r["summary"]?[key])
            #expect(abs(got["mean"]!.doubleValue! - mean) <= 1e-12 && abs(got["std"]!.doubleValue! - std) <= 1e-12, "\(key): \(got.jsonString()) vs \(mean) ± \(std)")
            #expect(got["min"]?.doubleValue == values.min() && got["max"]?.doubleValue == values.max())
            let stored = try await store.jobMetrics(job: job.id, name: "fold1/test/\(key)", afterStep: nil).map(\.value)
            #expect(stored == [values[1]], "fold1/test/\(key)")
        }
        let mean10 = try #require(r["summary"]?["rank10"]?["mean"]?.doubleValue)
        let random10 = try #require(r["random_baseline_summary"]?["rank10"]?["mean"]?.doubleValue)
        print("3 folds: test Rank@10 mean \(mean10), random \(random10)")
        #expect(mean10 > random10 + 0.2)

        // Each fold's numbers from the stored vectors: its test functions' out-of-fold predictions
        // against the targets centred on that fold's train mean.
        let name = try #require(r["output_space"]?.stringValue)
        #expect(name == "student.job-\(job.id)")
        let dt = SyntheticCorpus.dt
        let targets = try await store.vectors(space: corpus.target, ids: ids)
        let stored = try await store.vectors(space: name, ids: ids)
        let means = try await store.vectors(space: corpus.sigMean, ids: ids)
        #expect(targets.ids == ids && stored.ids == ids && means.ids == ids)
        var hashIndex = [String: Int]()
        for id in ids where hashIndex[facts[id]!.bodyHash] == nil { hashIndex[facts[id]!.bodyHash] = hashIndex.count }
        let groups = ids.map { hashIndex[facts[$0]!.bodyHash]! }
        for (i, split) in splits.enumerated() {
            let database = naiveCentredUnitRows(targets.values, dim: dt, meanOver: split.train)
            let queries = split.test.map { j in (0..<dt).map { Double(stored.values[j * dt + $0]) } }
            let want = naiveRankMetrics(queries: queries, truth: split.test, database: database, groups: groups)
            let sigRows = naiveCentredUnitRows(means.values, dim: dt, meanOver: split.train)
            let wantSig = naiveRankMetrics(queries: split.test.map { sigRows[$0] }, truth: split.test, database: database, groups: groups)
            for (got, w, what) in [(folds[i]["test"], want, "test"), (folds[i]["signature_mean_baseline"], wantSig, "sig_mean")] {
                let g = try #require(got)
                #expect(w.contains(rank1: g["rank1"]!.doubleValue!, rank10: g["rank10"]!.doubleValue!, mrr: g["mrr"]!.doubleValue!,
                                   count: g["count"]!.intValue!), "fold \(i) \(what): \(g.jsonString()) vs \(w)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: TrainJob.checkpointDirectory(dir, job: job.id).path))
        do {
            _ = try await StudentPredictions.resolve(store: store, dataDirectory: dir, jobID: job.id, checkpoint: nil)
            Issue.record("a folds job resolved to a model")
        } catch {
            let e = APIError(error)
            #expect(e.status == 404 && e.code == "unknown_checkpoint" && e.message.contains("ran with folds"), "\(error)")
        }
        #expect(try await store.job(id: job.id)?.progress == 1)
    }

    /// `folds` outside 2…20 or not a whole number: a 400 naming it; with more folds than
    /// repositories the job fails at run time, saying so.
    @Test(arguments: Backend.all) func badFoldsAreRefusedAndTooManyFoldsFailTheJob(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open())
        let store = runner.store
        let ok: [String: JSONValue] = ["input_space": "a", "target_space": "b"]
        try runner.validate(type: "train", params: .object(ok.merging(["folds": 2]) { $1 }))
        try runner.validate(type: "train", params: .object(ok.merging(["folds": 20, "split_by": "directory", "output_space": "s"]) { $1 }))
        for bad: JSONValue in [1, 0, -3, 21, 2.5, "5", true] {
            do {
                _ = try await runner.submit(type: "train", params: .object(ok.merging(["folds": bad]) { $1 }))
                Issue.record("accepted folds \(bad)")
            } catch {
                let e = APIError(error)
                #expect(e.status == 400 && e.code == "invalid_parameter" && e.message.contains("'folds'"), "folds \(bad): \(error)")
            }
        }
        #expect(try await store.jobs(state: nil, type: nil, limit: 10).isEmpty, "nothing was queued")

        let corpus = try await SyntheticCorpus(store: store, repositories: 4, perRepository: 10)
        let job = try await runner.submit(type: "train", params: [
            "input_space": .string(corpus.input), "target_space": .string(corpus.target), "folds": 5,
        ], maxAttempts: 1)
        runner.start()
        #expect(try await eventually(120) { try await store.job(id: job.id)?.state.isFinal == true })
        await runner.stop()
        let failed = try #require(try await store.job(id: job.id))
        #expect(failed.state == .failed && failed.error?.contains("folds 5 needs at least 5 repositories; the data has 4") == true,
                "\(failed.error ?? "")")
        #expect(try await store.space(named: "student.job-\(job.id)") == nil)
    }

    /// A cancel after fold 0's last epoch stops the job before fold 1 (fold 0's test figures are in);
    /// a cancel in fold 1's second epoch stops it within the fold. Neither stores a student space.
    @Test(arguments: Backend.all) func cancelStopsAFoldsJobBetweenAndWithinFolds(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let store = db.store
        let corpus = try await SyntheticCorpus(store: store, repositories: 6, perRepository: 20, seed: 8)
        var fields = corpus.tinyParams.objectValue!
        fields["folds"] = 3
        fields["epochs"] = 4
        for (cancelFold, cancelEpoch) in [(0, 4), (1, 2)] {
            let ctx = try await TrainJobTests.claim(store, fields, worker: "w\(cancelFold)", dataDirectory: dir)
            let seen = Mutex([(Int, Int)]())
            let p = try TrainJob.Params.decode(ctx.params, job: "train")
            await #expect(throws: JobCancelled.self) {
                _ = try await TrainJob.run(ctx, p, writer: VectorWriter(store: store, search: nil), foldObserver: { fold, epoch in
                    seen.withLock { $0.append((fold, epoch)) }
                    if fold == cancelFold && epoch == cancelEpoch { ctx.flags.set(cancelled: true) }
                })
            }
            let epochs = seen.withLock { $0 }
            #expect(epochs.last! == (cancelFold, cancelEpoch), "epochs seen: \(epochs)")
            func count(_ name: String) async throws -> Int { try await store.jobMetrics(job: ctx.job.id, name: name, afterStep: nil).count }
            #expect(try await count("fold0/test/rank10") == 1)
            #expect(try await count("fold1/val/rank10") == (cancelFold == 1 ? cancelEpoch : 0))
            #expect(try await count("fold1/test/rank10") == 0)
            #expect(try await count("fold2/train/loss") == 0)
            #expect(try await store.space(named: "student.job-\(ctx.job.id)") == nil)
        }
    }
}
