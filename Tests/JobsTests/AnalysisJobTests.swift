import Analysis
import Core
import Foundation
import Teacher
import Testing
@testable import Jobs
@testable import Store
import TestSupport

/// The probe, layer_sweep and neighbours jobs on a real SQLite store through a real `JobRunner`.
/// Reference: the Analysis module called directly on the same arrays (that module is itself
/// checked against scikit-learn/numpy fixtures in AnalysisTests), so these tests check the wiring —
/// which rows, labels, groups, transforms and controls reach `Probe.run`, and what is stored.
@Suite struct AnalysisJobTests {
    /// A synthetic corpus: `n` functions over `repos` repositories, properties with known structure,
    /// and a space whose vectors are a random projection of log1p(loc), of the return category and
    /// of noise, so probes have real signal. Functions 0..<dupPairs*2 come in duplicate pairs
    /// (shared body hash); functions 7, 54, 101, … (i % 47 == 7) share one template direction across repos.
    struct Corpus {
        var store: any StoreBackend
        var runner: JobRunner
        var db: TestStore
        var ids: [Int64]
        var space: String
        var dims: Int

        /// Removes the data directory and the store.
        func remove() {
            removeTemporaryDirectory(runner.dataDirectory)
            db.remove()
        }
    }

    static let categories = ["None", "builtin_scalar", "container"]

    /// A corpus in a fresh data directory (`runner.dataDirectory`) over a fresh store of `backend`
    /// (the caller removes both: `removeCorpus`).
    static func makeCorpus(backend: Backend = .sqlite, n: Int = 300, repos: Int = 6, dims: Int = 16, space: String = "test.L1.body_mean",
                           extraSpaces: [String] = [], seed: UInt64 = 1, workers: Int = 1) async throws -> Corpus {
        let dir = try makeTemporaryDirectory("jobs")
        let db = try TestStore(backend)
        let runner = try makeRunner(dir, store: try db.open(), workers: workers)
        let store = runner.store
        var rng = SplitMix64(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        func gaussian() -> Double { (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform()) }
        var inputs = [FunctionInput]()
        var locs = [Int](), cats = [Int]()
        for i in 0..<n {
            let loc = 1 + Int(exp(uniform() * 4))           // 2 … 55 lines, log-uniform
            let cat = Int(rng.next() % 3)
            locs.append(loc); cats.append(cat)
            let body = String(repeating: "    x = x + 1\n", count: loc)
            let props: JSONValue = [
                "loc": .number(Double(loc)), "cyclomatic_complexity": .number(Double(1 + loc / 4 + Int(rng.next() % 3))),
                "n_args": .number(Double(rng.next() % 4)), "return_category": .string(categories[cat]),
                "has_docstring": .bool(i % 3 == 0), "is_async": .bool(false),
            ]
            inputs.append(FunctionInput(repo: "repo\(i % repos)", path: "pkg/mod\(i % 7).py", qualifiedName: "f\(i)",
                                        startLine: 1, endLine: loc + 1, signature: "def f\(i)(x):", body: body,
                                        properties: props, bodyHash: i < 40 ? "dup\(i / 2)" : "h\(i)"))
        }
        let ids = try await store.upsertFunctions(inputs).ids
        // Projection directions.
        let dLoc = (0..<dims).map { _ in gaussian() }, dCat = (0..<3).map { _ in (0..<dims).map { _ in gaussian() } }
        let dTemplate = (0..<dims).map { _ in gaussian() }
        for (s, name) in ([space] + extraSpaces).enumerated() {
            _ = try await store.createSpace(SpaceInput(name: name, model: "", layer: s, kind: .bodyMean, dim: dims))
            var values = [Float]()
            for i in 0..<n {
                let a = log1p(Double(locs[i])), family = i % 47 == 7
                for j in 0..<dims {
                    var v = (1 + Double(s)) * a * dLoc[j] + 1.5 * dCat[cats[i]][j] + 0.5 * gaussian()
                    if family { v = 3 * dTemplate[j] + 0.01 * gaussian() }
                    values.append(Float(v))
                }
            }
            try await store.upsertVectors(space: name, VectorBatch(ids: ids, values: values))
        }
        return Corpus(store: store, runner: runner, db: db, ids: ids, space: space, dims: dims)
    }

    static func finish(_ runner: JobRunner, _ job: JobRecord, seconds: Double = 120) async throws -> JobRecord {
        let store = runner.store
        _ = try await eventually(seconds) { try await store.job(id: job.id)?.state.isFinal == true }
        return try #require(try await store.job(id: job.id))
    }

    /// The arrays a probe of `space` sees, rebuilt independently of the job's code.
    static func reference(_ c: Corpus, space: String) async throws -> (ids: [Int64], x: [Float], facts: [FunctionFacts], texts: [Double]) {
        let batch = try await c.store.vectors(space: space, ids: nil)
        let facts = try await c.store.functionFacts(ids: batch.ids)
        let texts = try await c.store.functionTexts(ids: batch.ids)
        let trivial = texts.map { log1p(Double(($0.signature + "\n" + $0.body).unicodeScalars.count)) }
        return (batch.ids, batch.values, batch.ids.map { facts[$0]! }, trivial)
    }

    @Test(arguments: Backend.all) func probeResultsEqualProbeRunOnTheSameArraysAndAreStored(_ backend: Backend) async throws {
        let c = try await Self.makeCorpus(backend: backend)
        defer { c.remove() }
        let job = try await c.runner.submit(type: "probe", params: [
            "space": .string(c.space), "targets": ["loc", "cyclomatic_complexity", "return_category", "is_async"],
            "folds": 5, "group_by": "repo", "seed": 3,
        ])
        c.runner.start()
        let done = try await Self.finish(c.runner, job)
        await c.runner.stop()
        #expect(done.state == .succeeded, "\(done.error ?? "")")
        let result = try #require(done.result)
        let results = try #require(result["results"]?.arrayValue)
        #expect(results.map { $0["target"]?.stringValue } == ["loc", "cyclomatic_complexity", "return_category"])
        #expect(result["skipped"]?.arrayValue?.first?["target"] == "is_async")
        #expect(result["skipped"]?.arrayValue?.first?["reason"]?.stringValue?.contains("one class") == true)
        #expect(result["trivial_feature"] == "log1p(characters)")

        let ref = try await Self.reference(c, space: c.space)
        let n = ref.ids.count
        let groups = ref.facts.map(\.repo)
        let options = ProbeOptions(folds: 5, shuffleSeed: 3)
        let locLabels = ProbeLabels.regression(try ProbeTargets.log1p(counts: ref.facts.map { $0.properties["loc"]!.doubleValue! }))
        let ccLabels = ProbeLabels.regression(try ProbeTargets.log1p(counts: ref.facts.map { $0.properties["cyclomatic_complexity"]!.doubleValue! }))
        let (catLabels, catNames) = ProbeLabels.categories(ref.facts.map { $0.properties["return_category"]!.stringValue! })
        var expected = [
            try Probe.run(target: "loc", features: ref.x, count: n, dims: c.dims, labels: locLabels, groups: groups, trivial: ref.texts, options: options),
            try Probe.run(target: "cyclomatic_complexity", features: ref.x, count: n, dims: c.dims, labels: ccLabels, groups: groups, trivial: ref.texts, options: options),
            try Probe.run(target: "return_category", features: ref.x, count: n, dims: c.dims, labels: catLabels, groups: groups, trivial: ref.texts, options: options),
        ]
        expected[2].classNames = catNames

        let stored = try await c.store.probeResults(ProbeQuery(space: c.space))
        #expect(stored.count == 3)
        #expect(stored.map(\.target) == ["return_category", "cyclomatic_complexity", "loc"])  // newest first
        for (json, want) in zip(results, expected) {
            let got = try json.decode(ProbeResult.self)
            #expect(approxEqual(got, want), "\(want.target): job \(got.folds) vs direct \(want.folds)")
            let row = try #require(stored.first { $0.target == want.target })
            #expect(row.jobID == job.id && row.groupBy == "repo" && row.task == want.task.rawValue && row.metric == want.metric.rawValue)
            #expect(abs(row.mean - want.mean) <= 1e-9 && abs(row.std - want.std) <= 1e-9)
            #expect(approxEqual(try row.result.decode(ProbeResult.self), want))
            #expect(json["id"]?.intValue == Int(row.id))
            // GroupKFold by repository: 6 groups, 5 folds.
            #expect(got.groups == 6 && got.foldCount == 5 && got.n == n)
        }
        // The signal is real and the shuffled control is near chance.
        let loc = expected[0], cat = expected[2]
        #expect(loc.mean > 0.8 && abs(loc.controls.shuffled.mean) < 0.2)
        #expect(cat.mean > 0.8 && abs(cat.controls.shuffled.mean - 1.0 / 3) < 0.15)
        #expect(results[0]["transform"] == "log1p" && results[2]["class_names"] == ["None", "builtin_scalar", "container"])
    }

    @Test(arguments: Backend.all) func groupByFunctionUsesDuplicateGroupsAndFileUsesPaths(_ backend: Backend) async throws {
        let c = try await Self.makeCorpus(backend: backend, n: 200)
        defer { c.remove() }
        let byFunction = try await c.runner.submit(type: "probe", params: ["space": .string(c.space), "targets": "loc", "group_by": "function"])
        let byFile = try await c.runner.submit(type: "probe", params: ["space": .string(c.space), "targets": ["loc"], "group_by": "file", "folds": 3])
        c.runner.start()
        let a = try await Self.finish(c.runner, byFunction), b = try await Self.finish(c.runner, byFile)
        await c.runner.stop()
        #expect(a.state == .succeeded && b.state == .succeeded, "\(a.error ?? "") \(b.error ?? "")")
        // 20 duplicate pairs among the first 40 functions: 200 - 20 distinct bodies.
        #expect(a.result?["results"]?.arrayValue?.first?["groups"]?.intValue == 180)
        #expect(a.result?["group_by"] == "function")
        // Paths pkg/mod0…6.py in each of 6 repositories: 42 files.
        #expect(b.result?["results"]?.arrayValue?.first?["groups"]?.intValue == 42)
        let ref = try await Self.reference(c, space: c.space)
        let want = try Probe.run(target: "loc", features: ref.x, count: ref.ids.count, dims: c.dims,
                                 labels: .regression(try ProbeTargets.log1p(counts: ref.facts.map { $0.properties["loc"]!.doubleValue! })),
                                 groups: ref.facts.map(\.bodyHash), trivial: ref.texts)
        #expect(approxEqual(try a.result?["results"]?.arrayValue?.first?.decode(ProbeResult.self), want))
    }

    @Test(arguments: Backend.all) func defaultTargetsAreThePropertiesPresent(_ backend: Backend) async throws {
        let c = try await Self.makeCorpus(backend: backend, n: 150, repos: 5)
        defer { c.remove() }
        let job = try await c.runner.submit(type: "probe", params: ["space": .string(c.space)])
        c.runner.start()
        let done = try await Self.finish(c.runner, job)
        await c.runner.stop()
        #expect(done.state == .succeeded, "\(done.error ?? "")")
        let targets = done.result?["results"]?.arrayValue?.compactMap { $0["target"]?.stringValue }
        #expect(targets == ["loc", "cyclomatic_complexity", "n_args", "return_category", "has_docstring"])
        // No history counts in this corpus: not reported as skipped; the constant flag is.
        #expect(done.result?["skipped"]?.arrayValue?.compactMap { $0["target"]?.stringValue } == ["is_async"])
    }

    /// The real default teacher's folder (SWEJEPA_MODEL_DIR, else <repo>/.cache/models/all-MiniLM-L6-v2).
    static let modelDir = PackagePaths.modelDirectory.path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: modelDir + "/tokenizer.json"), "needs the default teacher (make model)"), arguments: Backend.all)
    func theTrivialControlCountsTeacherTokensWhenATokenizerIsGiven(_ backend: Backend) async throws {
        let modelDir = Self.modelDir
        let c = try await Self.makeCorpus(backend: backend, n: 100, repos: 5)
        defer { c.remove() }
        // Requests name models (folders under DATA/models), never paths: link the teacher there.
        let models = c.runner.dataDirectory.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: models.appendingPathComponent("all-MiniLM-L6-v2"), withDestinationURL: URL(fileURLWithPath: modelDir))
        let job = try await c.runner.submit(type: "probe", params: ["space": .string(c.space), "targets": ["loc"], "tokenizer": "all-MiniLM-L6-v2"])
        let bad = try await c.runner.submit(type: "probe", params: ["space": .string(c.space), "targets": ["loc"], "tokenizer": "no-such-model"])
        c.runner.start()
        let done = try await Self.finish(c.runner, job), failed = try await Self.finish(c.runner, bad)
        await c.runner.stop()
        #expect(done.state == .succeeded, "\(done.error ?? "")")
        #expect(done.result?["trivial_feature"] == "log1p(tokens: all-MiniLM-L6-v2 WordPiece)")
        #expect(failed.state == .failed && failed.error?.contains("tokenizer") == true)
        // Same probe with token counts from the tokenizer directly.
        let tok = try WordPieceTokenizer(directory: URL(fileURLWithPath: modelDir))
        let ref = try await Self.reference(c, space: c.space)
        let texts = try await c.store.functionTexts(ids: ref.ids)
        let trivial: [Double] = texts.map { t in
            let text = t.signature + "\n" + t.body
            return log1p(Double(tok.encode(text, maxLength: nil, addSpecialTokens: false).count))
        }
        let want = try Probe.run(target: "loc", features: ref.x, count: ref.ids.count, dims: c.dims,
                                 labels: .regression(try ProbeTargets.log1p(counts: ref.facts.map { $0.properties["loc"]!.doubleValue! })),
                                 groups: ref.facts.map(\.repo), trivial: trivial)
        #expect(approxEqual(try done.result?["results"]?.arrayValue?.first?.decode(ProbeResult.self), want))
    }

    @Test(arguments: Backend.all) func runTimeErrorsFailTheJobWithAClearMessage(_ backend: Backend) async throws {
        let c = try await Self.makeCorpus(backend: backend, n: 60, repos: 2)
        defer { c.remove() }
        let unknown = try await c.runner.submit(type: "probe", params: ["space": "no.such.space"])
        let fewRepos = try await c.runner.submit(type: "probe", params: ["space": .string(c.space), "targets": ["loc"]])
        let nothing = try await c.runner.submit(type: "probe", params: ["space": .string(c.space), "targets": ["is_async", "commits"], "folds": 2])
        c.runner.start()
        let a = try await Self.finish(c.runner, unknown), b = try await Self.finish(c.runner, fewRepos), d = try await Self.finish(c.runner, nothing)
        await c.runner.stop()
        #expect(a.state == .failed && a.error?.contains("space 'no.such.space' does not exist") == true, "\(a.error ?? "")")
        #expect(b.state == .failed && b.error?.contains("group_by \"file\"") == true, "\(b.error ?? "")")
        #expect(d.state == .failed && d.error?.contains("no target could be probed") == true && d.error?.contains("commits") == true, "\(d.error ?? "")")
    }

    @Test(arguments: Backend.all) func badParamsAreRejectedAtSubmission(_ backend: Backend) async throws {
        let dir = try makeTemporaryDirectory("jobs")
        defer { removeTemporaryDirectory(dir) }
        let db = try TestStore(backend)
        defer { db.remove() }
        let runner = try makeRunner(dir, store: try db.open(), workers: 0)
        let bad: [(String, JSONValue)] = [
            ("probe", [:]), ("probe", ["space": 3]),
            ("probe", ["space": "s", "targets": []]), ("probe", ["space": "s", "targets": ["Bad Name"]]),
            ("probe", ["space": "s", "folds": 1]),
            ("probe", ["space": "s", "folds": 2.5]), ("probe", ["space": "s", "group_by": "module"]),
            ("probe", ["space": "s", "alphas": [1, -1]]), ("probe", ["space": "s", "c": 0]),
            ("probe", ["space": "s", "seed": -1]), ("probe", ["space": "s", "sample": 3]),
            ("probe", ["space": "s", "target": ["loc"]]),
            ("layer_sweep", ["layers": [-1]]), ("layer_sweep", ["layers": "some"]), ("layer_sweep", ["kinds": ["sig_tokens"]]),
            ("layer_sweep", ["sample": 5]), ("layer_sweep", ["group_by": 1]),
            ("neighbours", [:]), ("neighbours", ["space": "s", "k": 0]), ("neighbours", ["space": "s", "exclude": "file"]),
            ("neighbours", ["space": "s", "min_repositories": 0]), ("neighbours", ["space": "s", "linkage": "complete"]),
            ("neighbours", ["space": "s", "min_similarity": "high"]), ("neighbours", ["space": "s", "similarity_quantile": 0]),
            ("neighbours", ["space": "s", "similarity_quantile": 1.5]), ("neighbours", ["space": "s", "examples": -1]),
        ]
        // Both thresholds: each value is valid, the pair is not (a rule between fields): 422.
        do {
            try runner.validate(type: "neighbours", params: ["space": "s", "min_similarity": 0.9, "similarity_quantile": 0.99])
            Issue.record("accepted both min_similarity and similarity_quantile")
        } catch let e as APIError {
            #expect(e.status == 422 && e.code == "conflicting_parameters", "\(e)")
        }
        // A token space where one vector per function is needed: the name fits the schema, what it
        // names does not suit the job: 422.
        for (type, space) in [("probe", "m.L3.sig_tokens"), ("neighbours", "s.sig_tokens")] {
            do { try runner.validate(type: type, params: ["space": .string(space)]); Issue.record("accepted: \(type) \(space)") } catch let e as APIError {
                #expect(e.status == 422 && e.code == "wrong_space_kind", "\(e)")
            }
        }
        for (type, params) in bad {
            #expect(throws: APIError.self, "\(type) \(params.jsonString())") { try runner.validate(type: type, params: params) }
            do { try runner.validate(type: type, params: params) } catch let e as APIError {
                #expect(e.status == 400 && e.code == "invalid_parameter", "\(e)")
            }
        }
        let good: [(String, JSONValue)] = [
            ("probe", ["space": "s"]), ("probe", ["space": "s", "targets": ["loc", "loc"]]),  // a repeat counts once
            ("probe", ["space": "s", "targets": "loc,return_category", "group_by": "file", "folds": 3, "alphas": [1, 10], "c": 0.5, "seed": 7, "sample": 100]),
            ("layer_sweep", [:]), ("layer_sweep", ["model": "m", "layers": [0, 3], "kinds": ["body_mean", "sig_mean"], "sample": 500]),
            ("layer_sweep", ["layers": "all"]), ("neighbours", ["space": "s", "k": 5, "exclude": "self"]),
            ("neighbours", ["space": "s", "linkage": "single"]), ("neighbours", ["space": "s", "min_similarity": 0.9, "examples": 0]),
            ("neighbours", ["space": "s", "linkage": "average", "similarity_quantile": 0.99]),
        ]
        for (type, params) in good { try runner.validate(type: type, params: params) }
    }

    /// Cancel lands mid-job: the job is held right after its first target is stored until the
    /// cancel request has reached it (through the store and the heartbeat); it then stops before
    /// the next target and ends `cancelled` with exactly that one target stored.
    @Test(arguments: Backend.all) func cancelStopsAProbeMidJob(_ backend: Backend) async throws {
        let c = try await Self.makeCorpus(backend: backend, n: 300, repos: 6)
        defer { c.remove() }
        let targets = (0..<8).map { "p\($0)" }
        let all = try await c.store.functions(FunctionQuery(limit: 10_000))
        var inputs = [FunctionInput]()
        for f in all {
            var props = f.properties.objectValue ?? [:]
            for (i, t) in targets.enumerated() { props[t] = .number(Double((f.id * 7 + Int64(i)) % 13)) }
            inputs.append(FunctionInput(repo: f.repo, path: f.path, qualifiedName: f.qualifiedName, startLine: f.startLine, endLine: f.endLine,
                                        signature: f.signature, body: f.body, properties: .object(props), bodyHash: f.bodyHash))
        }
        _ = try await c.store.upsertFunctions(inputs)
        let gate = ProgressGate(at: "p0 done")
        gate.install(on: c.runner)
        let job = try await c.runner.submit(type: "probe", params: ["space": .string(c.space), "targets": .array(targets.map { .string($0) })])
        c.runner.start()
        let store = c.store
        #expect(try await eventually(120) { gate.context != nil })
        #expect(try await store.probeResults(ProbeQuery(jobID: job.id)).map(\.target) == ["p0"])
        _ = try await store.requestCancel(job: job.id)
        let ctx = try #require(gate.context)
        #expect(try await eventually(120) { ctx.isCancelled })
        gate.release()
        let done = try await Self.finish(c.runner, job)
        await c.runner.stop()
        #expect(done.state == .cancelled, "\(done.state) \(done.error ?? "")")
        #expect(try await store.probeResults(ProbeQuery(jobID: job.id)).map(\.target) == ["p0"])
    }

    /// A resumed attempt reuses the targets the dead attempt already stored.
    @Test(arguments: Backend.all) func aResumedProbeReusesStoredTargets(_ backend: Backend) async throws {
        let c = try await Self.makeCorpus(backend: backend, n: 120, repos: 5)
        defer { c.remove() }
        let job = try await c.store.createJob(type: "probe", params: ["space": .string(c.space), "targets": ["loc", "n_args"]], maxAttempts: 3)
        _ = try #require(try await c.store.claimJob(worker: "dead", types: [], leaseSeconds: -1))
        let earlier = try await c.store.addProbeResult(ProbeRecordInput(
            jobID: job.id, space: c.space, target: "loc", task: "regression", metric: "r2", mean: 0.123, std: 0, groupBy: "repo",
            result: ["target": "loc", "mean": 0.123]))
        c.runner.start()
        let done = try await Self.finish(c.runner, job)
        await c.runner.stop()
        #expect(done.state == .succeeded && done.attempt == 2)
        let results = try #require(done.result?["results"]?.arrayValue)
        #expect(results.first?["id"]?.intValue == Int(earlier.id) && results.first?["mean"]?.doubleValue == 0.123)
        #expect(results.last?["target"] == "n_args")
        #expect(try await c.store.probeResults(ProbeQuery(jobID: job.id)).map(\.target).sorted() == ["loc", "n_args"])
    }

    @Test(arguments: Backend.all) func neighboursAreStoredAndEqualTopKOnTheSameArrays(_ backend: Backend) async throws {
        let c = try await Self.makeCorpus(backend: backend, n: 250, repos: 5)
        defer { c.remove() }
        let first = try await c.runner.submit(type: "neighbours", params: ["space": .string(c.space), "k": 5])
        c.runner.start()
        let done = try await Self.finish(c.runner, first)
        #expect(done.state == .succeeded, "\(done.error ?? "")")

        let ref = try await Self.reference(c, space: c.space)
        let n = ref.ids.count
        var repoIndex = [String: Int]()
        for f in ref.facts where repoIndex[f.repo] == nil { repoIndex[f.repo] = repoIndex.count }
        let repos = ref.facts.map { repoIndex[$0.repo]! }
        let lists = try NeighbourSearch.topK(vectors: ref.x, count: n, dims: c.dims, k: 5, repos: repos)
        var hashes = [String: Int](), groupOf = [String: Int]()
        for f in ref.facts { hashes[f.bodyHash, default: 0] += 1; if groupOf[f.bodyHash] == nil { groupOf[f.bodyHash] = groupOf.count } }
        let dup = ref.facts.map { hashes[$0.bodyHash]! > 1 ? groupOf[$0.bodyHash] : nil }
        // The default families: average linkage at τ = the 0.999 quantile of all cross-repository
        // pair cosines (n·(n−1)/2 < 10⁶: exact), recomputed here in Double.
        var unit = ref.x.map(Double.init)
        for i in 0..<n {
            let norm = (0..<c.dims).reduce(0.0) { $0 + unit[i * c.dims + $1] * unit[i * c.dims + $1] }.squareRoot()
            for t in 0..<c.dims { unit[i * c.dims + t] /= norm }
        }
        var cross = [Double]()
        for i in 0..<n { for j in (i + 1)..<n where repos[i] != repos[j] { cross.append((0..<c.dims).reduce(0.0) { $0 + unit[i * c.dims + $1] * unit[j * c.dims + $1] }) } }
        cross.sort()
        let tau = cross[Int((0.999 * Double(cross.count)).rounded(.up)) - 1]
        let r = try #require(done.result)
        let threshold = try #require(r["threshold"]?["value"]?.doubleValue)
        #expect(abs(threshold - tau) < 1e-6 && r["threshold"]?["source"] == "similarity_quantile" && r["threshold"]?["quantile"] == 0.999)
        #expect(r["threshold"]?["pairs"]?.intValue == cross.count && r["threshold"]?["exact"] == true && r["linkage"] == "average")
        let unitRows = try NeighbourSearch.normalised(ref.x, count: n, dims: c.dims)
        let summary = try NeighbourAnalysis.summarize(lists, repos: repos, duplicateGroups: dup,
                                                      rule: FamilyRule(linkage: .average, minSimilarity: threshold), vectors: unitRows)
        for i in 0..<n {
            let rows = try await c.store.neighbours(space: c.space, functionID: ref.ids[i])
            #expect(rows.map(\.neighbourID) == lists.neighbours(of: i).map { ref.ids[$0] })
            #expect(rows.map(\.rank) == Array(0..<rows.count))
            #expect(zip(rows, lists.scores[(i * 5)..<(i * 5 + 5)]).allSatisfy { $0.score == Double($1) })
            #expect(rows.allSatisfy { ref.facts[ref.ids.firstIndex(of: $0.neighbourID)!].repo != ref.facts[i].repo })
        }
        #expect(r["pairs"]?.intValue == summary.pairs && r["duplicate_pairs"]?.intValue == summary.duplicatePairs)
        #expect(r["duplicate_share"]?.doubleValue == summary.duplicateShare && r["mutual_pairs"]?.intValue == summary.mutualPairs)
        #expect(r["stored_rows"]?.intValue == n * 5 && r["family_count"]?.intValue == summary.families.count)
        // Families are spelled out in summary order, with their mean cosine (recomputed here) and
        // their 5 most central members with signatures; the template functions (i % 47 == 7: f7,
        // f54, …, f242 over all 5 repositories) are mutual neighbours of each other only: one family.
        let families = try #require(r["families"]?.arrayValue)
        #expect(families.count == min(20, summary.families.count))
        for (fam, want) in zip(families, summary.families) {
            #expect(fam["size"]?.intValue == want.members.count && fam["repositories"]?.arrayValue?.count == want.repositories.count)
            #expect(fam["repository_count"]?.intValue == want.repositories.count)
            let ids = fam["members"]?.arrayValue?.compactMap { $0["id"]?.intValue.map(Int64.init) } ?? []
            #expect(ids == want.members.map { ref.ids[$0] })
            var mean = 0.0
            for a in want.members { for b in want.members where a < b { mean += (0..<c.dims).reduce(0.0) { $0 + unit[a * c.dims + $1] * unit[b * c.dims + $1] } } }
            mean /= Double(want.members.count * (want.members.count - 1) / 2)
            let got = try #require(fam["mean_similarity"]?.doubleValue)
            #expect(abs(got - mean) < 1e-6 && got >= threshold - 1e-6)
            let examples = try #require(fam["examples"]?.arrayValue)
            #expect(examples.compactMap { $0["id"]?.intValue.map(Int64.init) } == want.central!.prefix(5).map { ref.ids[$0] })
            #expect(examples.allSatisfy { $0["signature"]?.stringValue == "def \($0["qualified_name"]?.stringValue ?? "?")(x):" })
        }
        let template = families.first { $0["members"]?.arrayValue?.contains { $0["qualified_name"] == "f7" } == true }
        let names = template?["members"]?.arrayValue?.compactMap { $0["qualified_name"]?.stringValue } ?? []
        #expect(names == ["f7", "f54", "f101", "f148", "f195", "f242"])
        #expect(template?["repositories"] == ["repo0", "repo1", "repo2", "repo3", "repo4"])

        // `linkage: "single"` without a threshold is the first rule: mutual-graph components.
        let components = try await c.runner.submit(type: "neighbours", params: ["space": .string(c.space), "k": 5, "linkage": "single", "examples": 0])
        let old = try await Self.finish(c.runner, components)
        let oldSummary = try NeighbourAnalysis.summarize(lists, repos: repos, duplicateGroups: dup)
        #expect(old.result?["threshold"]?["source"] == "none" && old.result?["threshold"]?["value"] == JSONValue.null)
        #expect(old.result?["family_count"]?.intValue == oldSummary.families.count)
        #expect(old.result?["families"]?.arrayValue?.map { $0["size"]?.intValue ?? 0 } == oldSummary.families.prefix(20).map(\.members.count))
        #expect(old.result?["families"]?.arrayValue?.allSatisfy { $0["examples"] == [] } == true)

        // A second run replaces the lists as a whole.
        let second = try await c.runner.submit(type: "neighbours", params: ["space": .string(c.space), "k": 2, "exclude": "self"])
        #expect(try await Self.finish(c.runner, second).state == .succeeded)
        await c.runner.stop()
        let page = try await c.store.neighbours(space: c.space, after: nil, limit: 10_000)
        #expect(page.count == n * 2)
        #expect(try await c.store.neighbourRun(space: c.space) == NeighbourRun(space: c.space, jobID: second.id, k: 2, exclude: "self", functions: n,
                                                                              createdAt: try await c.store.neighbourRun(space: c.space)!.createdAt))
        // Deleting the space removes its lists.
        _ = try await c.store.deleteSpace(named: c.space)
        #expect(try await c.store.neighbours(space: c.space, after: nil, limit: 10).isEmpty)
        #expect(try await c.store.neighbourRun(space: c.space) == nil)
    }

    @Test(arguments: Backend.all) func layerSweepTabulatesEveryLayerAndEqualsTheAnalysisModule(_ backend: Backend) async throws {
        let c = try await Self.makeCorpus(backend: backend, n: 260, repos: 5, space: "tm.L0.body_mean", extraSpaces: ["tm.L1.body_mean"])
        defer { c.remove() }
        let job = try await c.runner.submit(type: "layer_sweep", params: ["model": "tm", "sample": 200, "seed": 4, "folds": 3])
        let missing = try await c.runner.submit(type: "layer_sweep", params: ["model": "tm", "layers": [0, 5]])
        c.runner.start()
        let done = try await Self.finish(c.runner, job), failed = try await Self.finish(c.runner, missing)
        await c.runner.stop()
        #expect(done.state == .succeeded, "\(done.error ?? "")")
        #expect(failed.state == .failed && failed.error?.contains("tm.L5.body_mean") == true && failed.error?.contains("\"embed\"") == true,
                "\(failed.error ?? "")")
        let r = try #require(done.result)
        #expect(r["layers"] == [0, 1] && r["columns"]?["layer"] == [0, 1])
        let rows = try #require(r["rows"]?.arrayValue)
        #expect(rows.count == 2)
        for (l, row) in rows.enumerated() {
            let ref = try await Self.reference(c, space: "tm.L\(l).body_mean")
            let picked = LayerAnalysis.sample(count: ref.ids.count, size: 200, seed: 4)
            var x = [Float]()
            for i in picked { x += ref.x[(i * c.dims)..<((i + 1) * c.dims)] }
            let stats = try LayerAnalysis.stats(vectors: x, count: picked.count, dims: c.dims, layer: l)
            #expect(row["n"]?.intValue == 200)
            #expect(abs((row["mean_cosine"]?.doubleValue ?? .nan) - stats.meanCosine) <= 1e-9 && abs((row["cosine_std"]?.doubleValue ?? .nan) - stats.cosineStd) <= 1e-9)
            #expect(abs((row["effective_rank"]?.doubleValue ?? .nan) - stats.effectiveRank) <= 1e-9)
            let folds = try GroupKFold.split(groups: picked.map { ref.facts[$0].repo }, folds: 3)
            let locY = try ProbeTargets.log1p(counts: picked.map { ref.facts[$0].properties["loc"]!.doubleValue! })
            let loc = try Probe.crossValidate(features: x.map(Double.init), count: picked.count, dims: c.dims, labels: .regression(locY), folds: folds)
            // Equal up to rounding (threaded BLAS may order sums differently between runs).
            #expect(abs((row["loc_r2"]?.doubleValue ?? .nan) - loc.mean) <= 1e-9 && abs((row["loc_r2_std"]?.doubleValue ?? .nan) - loc.std) <= 1e-9)
            #expect(loc.mean > 0.8)
            let ccY = try ProbeTargets.log1p(counts: picked.map { ref.facts[$0].properties["cyclomatic_complexity"]!.doubleValue! })
            let cc = try Probe.crossValidate(features: x.map(Double.init), count: picked.count, dims: c.dims, labels: .regression(ccY), folds: folds)
            let complexity = try #require(row["complexity_r2"]?.doubleValue), complexityStd = try #require(row["complexity_r2_std"]?.doubleValue)
            #expect(abs(complexity - cc.mean) <= 1e-9 && abs(complexityStd - cc.std) <= 1e-9, "complexity R² \(complexity) vs \(cc.mean)")
            // The column-wise table repeats the rows.
            for key in ["mean_cosine", "effective_rank", "loc_r2", "complexity_r2"] {
                let column = try #require(r["columns"]?[key]?.arrayValue, "column \(key)")
                #expect(column.count == 2 && column[l].doubleValue != nil && column[l] == row[key], "column \(key)")
            }
        }
    }
}


/// Equal up to rounding: threaded BLAS may order sums differently from run to run.
func approxEqual(_ a: ProbeResult?, _ b: ProbeResult, tolerance: Double = 1e-9) -> Bool {
    guard let a else { return false }
    func close(_ x: [Double], _ y: [Double]) -> Bool { x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) <= tolerance } }
    func close(_ x: ProbeScores, _ y: ProbeScores) -> Bool {
        close(x.folds, y.folds) && abs(x.mean - y.mean) <= tolerance && abs(x.std - y.std) <= tolerance && x.alphas == y.alphas
    }
    return a.target == b.target && a.task == b.task && a.metric == b.metric && close(a.folds, b.folds)
        && abs(a.mean - b.mean) <= tolerance && abs(a.std - b.std) <= tolerance && a.alphas == b.alphas && a.c == b.c
        && close(a.controls.shuffled, b.controls.shuffled) && close(a.controls.trivial, b.controls.trivial)
        && a.n == b.n && a.dims == b.dims && a.groups == b.groups && a.foldCount == b.foldCount
        && a.classes == b.classes && a.classNames == b.classNames && a.shuffleSeed == b.shuffleSeed
}
