import Core
import Foundation
import Testing
@testable import Store

/// Opening a database written at an older schema version: `Fixtures/schema_v2.sqlite` (migrations
/// 0001–0002 only, rows in every table; made by Python's sqlite3 from the migration files by
/// `scripts/reference/make_old_database.py`) is copied and opened with `SQLiteStore`, which migrates
/// it to the latest version. Checked against: the fixture's own rows read with plain SQL before the
/// migration (every column of every table, `quote()`d), and the values the script wrote, read back
/// through the store API; then that the migrated schema still behaves (triggers, cascades, stale index).
@Suite struct MigrationTests {
    static let t0 = 1_700_000_000.0
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/schema_v2.sqlite")

    /// A fresh copy of the fixture as `DIR/swejepa.sqlite`.
    static func copyFixture() throws -> URL {
        let dir = tempDir()
        try FileManager.default.copyItem(at: fixture, to: dir.appendingPathComponent("swejepa.sqlite"))
        return dir
    }

    /// Every row of every table (or of `columns`' tables and columns), each column `quote()`d, sorted.
    static func rawRows(_ path: String, columns: [String: [String]]? = nil) throws -> (rows: [String: [String]], columns: [String: [String]]) {
        let db = try SQLiteConnection(path: path)
        var cols = columns ?? [:]
        if columns == nil {
            for t in try db.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", [], { $0.text(0) }) {
                cols[t] = try db.all("SELECT name FROM pragma_table_info(?) ORDER BY cid", [.text(t)]) { $0.text(0) }
            }
        }
        var out = [String: [String]]()
        for (t, cs) in cols {
            let select = cs.map { "quote(\"\($0)\")" }.joined(separator: " || '|' || ")
            out[t] = try db.all("SELECT \(select) FROM \"\(t)\"") { $0.text(0) }.sorted()
        }
        return (out, cols)
    }

    @Test func anOldDatabaseMigratesWithEveryRowIntact() async throws {
        let dir = try Self.copyFixture()
        let path = dir.appendingPathComponent("swejepa.sqlite").path
        let before = try Self.rawRows(path)
        // The fixture is what it claims: version 2, rows in every table.
        #expect(before.rows["schema_migrations"]?.count == 2)
        #expect(Set(before.rows.keys) == ["schema_migrations", "repositories", "functions", "spaces", "vectors", "jobs",
                                          "job_metrics", "job_logs", "probe_results", "neighbours", "neighbour_runs"])
        for (t, rows) in before.rows { #expect(!rows.isEmpty, "\(t) has rows") }

        let store = try SQLiteStore(directory: dir)
        let files = try FileManager.default.contentsOfDirectory(atPath: sqliteMigrationsFolder.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        let versions = files.map { Int($0.prefix(4))! }
        #expect(store.appliedMigrations == versions.filter { $0 > 2 })
        #expect(store.appliedMigrations.contains(3))

        // Plain SQL: every column that existed at version 2 holds the same values in the same rows.
        let after = try Self.rawRows(path, columns: before.columns)
        for t in before.columns.keys.sorted() where t != "schema_migrations" {
            #expect(after.rows[t] == before.rows[t], "table \(t) changed in the migration")
        }
        let db = try SQLiteConnection(path: path)
        let migrations = try db.all("SELECT version, name, applied_at FROM schema_migrations ORDER BY version") {
            ("\(String(format: "%04d", $0.int(0)))_\($0.text(1)).sql", $0.double(2))
        }
        #expect(migrations.map(\.0) == files)
        #expect(migrations.prefix(2).map(\.1) == [Self.t0 + 1, Self.t0 + 2])

        try await checkThroughTheStore(store)
    }

    /// The values `make_old_database.py` wrote, read back through the store API after the migration.
    func checkThroughTheStore(_ store: SQLiteStore) async throws {
        let t0 = Self.t0
        let repos = try await store.repositories()
        #expect(repos.map { [$0.id, Int64($0.functions)] } == [[1, 3], [2, 2]])
        #expect(repos.map(\.name) == ["alpha", "beta"] && repos.map(\.path) == ["/src/alpha", nil])
        #expect(repos.map(\.createdAt) == [t0 + 10, t0 + 30] && repos.map(\.updatedAt) == [t0 + 20, t0 + 30])

        // Functions: every field.
        let expected: [(Int64, String, String, String, String, Int, Int, String, String, String, JSONValue)] = [
            (1, "alpha", "pkg/a.py", "f", "python", 1, 3, "def f(x):", "    y = x  # é\n    return y\n", "bh-f",
             ["authors": 1, "commits": 2, "has_docstring": false, "loc": 3, "return_category": "none"]),
            (2, "alpha", "pkg/a.py", "K.m", "python", 6, 9, "    @property\n    def m(self):", "        return self._m\n", "bh-m",
             ["is_method": true, "loc": 3]),
            (3, "alpha", "pkg/b.py", "g", "python", 1, 2, "async def g():", "    await h()\n", "bh-dup", [:]),
            (4, "beta", "x.py", "h", "python", 10, 12, "def h():\n    \"\"\"Docs.\"\"\"", "    pass\n", "bh-dup", ["loc": 1]),
            (5, "beta", "x.py", "h#2", "cython", 20, 20, "def h():", "    return 0\n", "bh-h2", [:]),
        ]
        for e in expected {
            let f = try #require(try await store.function(id: e.0), "function \(e.0)")
            #expect([f.repo, f.path, f.qualifiedName, f.language, f.signature, f.body, f.bodyHash] == [e.1, e.2, e.3, e.4, e.7, e.8, e.9])
            #expect(f.startLine == e.5 && f.endLine == e.6 && f.properties == e.10)
            #expect(f.contentHash == FunctionHash.content(signature: e.7, body: e.8))
            #expect(f.createdAt == t0 + 100 + Double(e.0) && f.updatedAt == t0 + 200 + Double(e.0))
        }

        // Spaces, with their vector and stale counts.
        let spaces = try await store.spaces().sorted { $0.id < $1.id }
        #expect(spaces.map(\.name) == ["m.L3.body_mean", "m.L3.sig_tokens", "empty"])
        #expect(spaces.map(\.model) == ["m", "m", ""] && spaces.map(\.layer) == [3, 3, nil])
        #expect(spaces.map(\.kind) == [.bodyMean, .sigTokens, .custom] && spaces.map(\.dim) == [4, 2, 3])
        #expect(spaces.map(\.dtype) == [.float32, .float16, .float32] && spaces.map(\.metric) == [.cosine, .ip, .l2])
        #expect(spaces.map(\.indexFactory) == ["Flat", "HNSW32", "Flat"] && spaces.map(\.generation) == [7, 3, 0])
        #expect(spaces.map(\.count) == [5, 2, 0] && spaces.map(\.stale) == [1, 1, 0])
        #expect(spaces.map(\.createdAt) == [t0 + 300, t0 + 301, t0 + 302])

        // Vectors: values (float32 and float16), token rows, truncation, staleness.
        let mean = try await store.vectors(space: "m.L3.body_mean", ids: nil)
        #expect(mean.ids == [1, 2, 3, 4, 5] && mean.rows == [1, 1, 1, 1, 1])
        var meanValues = [Float]()
        for i in 1...5 { for j in 0..<4 { meanValues.append(Float(i) + Float(j) / 4) } }
        #expect(mean.values == meanValues)
        #expect(mean.truncated == [false, false, true, false, false])
        let tokens = try await store.vectors(space: "m.L3.sig_tokens", ids: [4, 1])
        #expect(tokens.ids == [4, 1] && tokens.rows == [1, 3])
        func tokenRows(_ id: Int, _ n: Int) -> [Float] {
            var out = [Float]()
            for r in 0..<n { for j in 0..<2 { out.append(Float(id) * 0.5 + Float(r) + Float(j) * 0.125) } }
            return out
        }
        #expect(tokens.values == tokenRows(4, 1) + tokenRows(1, 3))
        #expect(try await store.functionsMissingVectors(spaces: ["m.L3.body_mean"], repo: nil) == [2])
        #expect(try await store.functionsMissingVectors(spaces: ["m.L3.sig_tokens"], repo: "alpha") == [2, 3])

        // Jobs, their metrics and logs.
        let jobs = try await store.jobs(state: nil, type: nil, limit: 10).sorted { $0.id < $1.id }
        #expect(jobs.map(\.id) == [1, 2, 3, 4, 5])
        #expect(jobs.map(\.type) == ["ingest", "embed", "probe", "train", "neighbours"])
        #expect(jobs.map(\.state) == [.succeeded, .failed, .queued, .running, .cancelled])
        #expect(jobs.map(\.params) == [["path": "/src/alpha"], ["layers": [3], "model": "m"], ["space": "m.L3.body_mean", "targets": ["loc"]],
                                       ["epochs": 2], ["k": 2, "space": "m.L3.body_mean"]])
        #expect(jobs.map(\.result) == [["created": 3, "removed": 0], nil, nil, nil, nil])
        #expect(jobs.map(\.error) == [nil, "model not found", nil, nil, nil])
        #expect(jobs.map(\.progress) == [1, 0.25, 0, 0.5, 0] && jobs.map(\.message) == ["done", "loading", "", "epoch 1/2", "cancelled"])
        #expect(jobs.map(\.attempt) == [1, 3, 0, 1, 1] && jobs.map(\.maxAttempts) == [3, 3, 3, 5, 3])
        #expect(jobs.map(\.worker) == ["w1", "w2", nil, "w1", "w2"] && jobs.map(\.leaseExpiresAt) == [nil, nil, nil, t0 + 700, nil])
        #expect(jobs.map(\.cancelRequested) == [false, false, false, true, true])
        #expect(jobs.map(\.createdAt) == [t0 + 600, t0 + 620, t0 + 640, t0 + 650, t0 + 660])
        #expect(jobs.map(\.startedAt) == [t0 + 601, t0 + 621, nil, t0 + 651, t0 + 661])
        #expect(jobs.map(\.finishedAt) == [t0 + 610, t0 + 630, nil, nil, t0 + 662])
        #expect(jobs.map(\.updatedAt) == [t0 + 610, t0 + 630, t0 + 640, t0 + 651, t0 + 662])
        #expect(try await store.jobMetrics(job: 4, name: nil, afterStep: nil) == [
            JobMetric(step: 0, name: "loss", value: 2.5, at: t0 + 652), JobMetric(step: 1, name: "loss", value: 1.75, at: t0 + 653),
            JobMetric(step: 2, name: "loss", value: 1.125, at: t0 + 654), JobMetric(step: 0, name: "lr", value: 0.001, at: t0 + 652)])
        #expect(try await store.jobMetrics(job: 1, name: nil, afterStep: nil) == [JobMetric(step: 0, name: "functions", value: 5, at: t0 + 605)])
        #expect(try await store.jobLogs(job: 1, afterID: nil, limit: 10) == [
            JobLog(id: 1, at: t0 + 601, level: .info, message: "attempt 1 of 3"), JobLog(id: 2, at: t0 + 609, level: .info, message: "stored: 3 new")])
        #expect(try await store.jobLogs(job: 2, afterID: nil, limit: 10) == [JobLog(id: 3, at: t0 + 629, level: .error, message: "model not found: m")])
        #expect(try await store.jobLogs(job: 4, afterID: nil, limit: 10) == [JobLog(id: 4, at: t0 + 651, level: .warning, message: "slow epoch ✓")])

        // Analysis tables.
        let probes = try await store.probeResults(ProbeQuery())
        #expect(probes == [
            ProbeRecord(id: 2, jobID: nil, space: "m.L3.body_mean", target: "is_method", task: "classification", metric: "balanced_accuracy",
                        mean: 0.875, std: 0.0625, groupBy: "file", result: ["folds": [0.875], "n": 5], createdAt: t0 + 801),
            ProbeRecord(id: 1, jobID: 1, space: "m.L3.body_mean", target: "loc", task: "regression", metric: "r2",
                        mean: 0.625, std: 0.03125, groupBy: "repo", result: ["folds": [0.5, 0.75], "n": 5], createdAt: t0 + 800),
        ])
        #expect(try await store.neighbourRun(space: "m.L3.body_mean") ==
                NeighbourRun(space: "m.L3.body_mean", jobID: 5, k: 2, exclude: "repo", functions: 3, createdAt: t0 + 900))
        #expect(try await store.neighbours(space: "m.L3.body_mean", after: nil, limit: 10) == [
            NeighbourRow(functionID: 1, rank: 0, neighbourID: 4, score: 0.875), NeighbourRow(functionID: 1, rank: 1, neighbourID: 5, score: 0.5),
            NeighbourRow(functionID: 4, rank: 0, neighbourID: 1, score: 0.875), NeighbourRow(functionID: 5, rank: 0, neighbourID: 1, score: 0.5)])
    }

    /// After the migration the schema still behaves: the generation trigger and cascades on delete,
    /// the stale flag cleared by a new vector, the partial stale index used, new rows get fresh ids.
    @Test func theMigratedSchemaBehaves() async throws {
        let dir = try Self.copyFixture()
        let store = try SQLiteStore(directory: dir)
        let db = try SQLiteConnection(path: store.path)
        #expect(try db.all("SELECT name FROM pragma_table_info('vectors') ORDER BY cid") { $0.text(0) }
                == ["id", "space_id", "function_id", "n_rows", "data", "stale", "truncated", "updated_at", "generation"])
        // Counting stale vectors and reading changes since a generation read the index, not the rows.
        let plan = try db.all("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM vectors WHERE space_id = 1 AND stale = 1") { $0.text(3) }
        #expect(plan.contains { $0.contains("COVERING INDEX vectors_changes") }, "\(plan)")
        let changes = try db.all("EXPLAIN QUERY PLAN SELECT function_id FROM vectors WHERE space_id = 1 AND stale IN (0, 1) AND generation > 3") { $0.text(3) }
        #expect(changes.contains { $0.contains("INDEX vectors_changes (space_id=? AND stale=? AND generation>?)") }, "\(changes)")
        // Rows from before the migration carry generation 0; the record of changes starts at each
        // space's generation then, so an index older than that is rebuilt rather than caught up.
        for s in try await store.spaces() where s.generation > 0 {
            #expect(try await store.vectorChanges(space: s.name, after: s.generation - 1, limit: 1_000) == nil)
            #expect(try await store.vectorChanges(space: s.name, after: s.generation, limit: 1_000)?.upserted.ids == [])
        }

        // Deleting a function: its vectors (both spaces) and neighbour rows go; both generations move.
        #expect(try await store.deleteFunction(id: 1))
        let spaces = try await store.spaces().sorted { $0.id < $1.id }
        #expect(spaces.map(\.generation) == [8, 4, 0] && spaces.map(\.count) == [4, 1, 0])
        #expect(try await store.neighbours(space: "m.L3.body_mean", after: nil, limit: 10) == [])
        #expect(try await store.repositories().map(\.functions) == [2, 2])

        // A fresh vector clears the stale flag; a new function gets an id past the old ones.
        try await store.upsertVectors(space: "m.L3.body_mean", VectorBatch(ids: [2], values: [9, 9, 9, 9]))
        #expect(try await store.space(named: "m.L3.body_mean")?.stale == 0)
        let added = try await store.upsertFunctions([FunctionInput(repo: "beta", path: "y.py", qualifiedName: "n", startLine: 1, endLine: 2,
                                                                   signature: "def n():", body: "    return 1\n")])
        #expect(added.created == 1 && added.ids == [6])
        // Deleting the space cascades to its vectors and neighbour lists.
        #expect(try await store.deleteSpace(named: "m.L3.body_mean"))
        #expect(try await store.neighbourRun(space: "m.L3.body_mean") == nil)
        #expect(try db.first("SELECT COUNT(*) FROM vectors") { $0.int(0) } == 1)
    }
}
