import Core
import Foundation
import Testing
import TestSupport
@testable import Store

/// `StoreCopy`: a whole store into an empty one, verified.
@Suite struct StoreCopyTests {
    /// A store with rows in every table: the old-schema fixture migrated, plus a deleted function
    /// (tombstones), a job with metrics of two groups and logs written now.
    static func populatedStore() async throws -> (dir: URL, store: SQLiteStore) {
        let dir = try MigrationTests.copyFixture()
        let store = try SQLiteStore(directory: dir)
        #expect(try await store.deleteFunction(id: 2))
        _ = try await store.upsertFunctions((0..<30).map {
            FunctionInput(repo: "gamma", path: "g.py", qualifiedName: "g\($0)", startLine: 1, endLine: 2, signature: "def g\($0)():", body: "    return \($0)\n")
        })
        try await store.upsertVectors(space: "m.L3.body_mean", VectorBatch(ids: [3], values: [0.25, -1, 3e-9, 7]))
        let job = try await store.createJob(type: "sleep", params: .object(["seconds": .number(1)]), maxAttempts: 2)
        try await store.addMetrics(job: job.id, (0..<2_500).map { JobMetric(step: $0 / 2, name: $0 % 2 == 0 ? "loss" : "ü-temp", value: Double($0) / 7, at: 1e9 + Double($0)) })
        try await store.addLog(job: job.id, level: .warning, message: "line\0with NUL and ünïcode")
        return (dir, store)
    }

    /// Every column of every copied table, rendered by SQLite's own `quote()`, sorted.
    static func tables(_ dir: URL) throws -> [String: [String]] {
        let columns = Dictionary(uniqueKeysWithValues: TransferTable.all.map { ($0.name, $0.columns.map(\.name)) })
        return try MigrationTests.rawRows(dir.appendingPathComponent("swejepa.sqlite").path, columns: columns).rows
    }

    @Test func aCopyHoldsEveryRowOfEveryTableAndVerifiesItself() async throws {
        let (dir, source) = try await Self.populatedStore()
        let targetDir = tempDir()
        let target = try SQLiteStore(directory: targetDir)
        var pages = [(String, Int)]()
        // Small pages: keys continue across pages, a job's metrics stay one group.
        let report = try await StoreCopy(from: source, to: target, pageRows: 7).run { pages.append(($0, $1)) }
        let expected = try Self.tables(dir)
        #expect(try Self.tables(targetDir) == expected)
        #expect(report.tables.map(\.name) == TransferTable.all.map(\.name))
        for t in report.tables { #expect(t.rows == expected[t.name]?.count, "\(t.name)") }
        #expect(report.tables.allSatisfy { $0.rows > 0 }, "the fixture fills every table: \(report.tables)")
        let functionPages = pages.filter { $0.0 == "functions" }.map(\.1)
        #expect(functionPages == Array(stride(from: 7, to: expected["functions"]!.count, by: 7)) + [expected["functions"]!.count])
        let metricPages = pages.filter { $0.0 == "job_metrics" }.map(\.1)
        #expect(zip(metricPages, [0] + metricPages).contains { $0 - $1 >= 2_500 } && metricPages.last == expected["job_metrics"]?.count, "the new job's 2,500 metrics in one page: \(metricPages)")
        // The copy behaves as a store: same answers, and new rows get ids past the copied ones.
        #expect(try await target.spaces() == (try await source.spaces()))
        #expect(try await target.vectors(space: "m.L3.body_mean", ids: nil) == (try await source.vectors(space: "m.L3.body_mean", ids: nil)))
        #expect(try await target.vectorChanges(space: "m.L3.body_mean", after: 0, limit: 100) == (try await source.vectorChanges(space: "m.L3.body_mean", after: 0, limit: 100)))
        let jobs = try await target.jobs(state: nil, type: nil, limit: 100)
        let next = try await target.createJob(type: "sleep", params: .object([:]), maxAttempts: 1)
        #expect(next.id == (jobs.map(\.id).max() ?? 0) + 1)
    }

    @Test func aTargetThatHoldsAnythingIsRefusedUntouched() async throws {
        let (_, source) = try await Self.populatedStore()
        let targetDir = tempDir()
        let target = try SQLiteStore(directory: targetDir)
        _ = try await target.createJob(type: "sleep", params: .object([:]), maxAttempts: 1)
        let before = try Self.tables(targetDir)
        await #expect(throws: StoreTransferError.targetNotEmpty(table: "jobs", rows: 1)) {
            _ = try await StoreCopy(from: source, to: target).run()
        }
        #expect(try Self.tables(targetDir) == before)
    }

    @Test func theChecksumSeesAChangedValueButNotTheRowOrder() async throws {
        let (dir, source) = try await Self.populatedStore()
        let table = try #require(TransferTable.all.first { $0.name == "job_metrics" })
        let small = try await StoreCopy.checksum(table, of: source, pageRows: 3)
        let large = try await StoreCopy.checksum(table, of: source, pageRows: 100_000)
        let stored = try MigrationTests.rawRows(dir.appendingPathComponent("swejepa.sqlite").path).rows["job_metrics"]?.count
        #expect(small == large && small.rows == stored && small.rows > 2_500)
        let db = try SQLiteConnection(path: dir.appendingPathComponent("swejepa.sqlite").path)
        _ = try db.run("UPDATE job_metrics SET value = value + 1e-12 WHERE step = 100 AND name = 'loss'")
        let changed = try await StoreCopy.checksum(table, of: source, pageRows: 3)
        #expect(changed.rows == small.rows && changed.digest != small.digest)
    }

    /// SQLite → PostgreSQL → SQLite: every row comes back byte for byte (a NUL in a body, float bit
    /// patterns, JSON text), and PostgreSQL's identity sequences continue past the copied ids.
    @Test(arguments: Backend.postgresOnly) func aRoundTripThroughPostgreSQLGivesBackEveryRow(_ backend: Backend) async throws {
        let (dir, source) = try await Self.populatedStore()
        _ = try await source.upsertFunctions([FunctionInput(repo: "gamma", path: "n.py", qualifiedName: "nul", startLine: 1, endLine: 2,
                                                            signature: "def nul():", body: "    return '\0'\n")])
        let middle = try TestStore(backend)
        defer { middle.remove() }
        let pg = try #require(middle.store as? any StoreTransfer)
        let there = try await StoreCopy(from: source, to: pg, pageRows: 5).run()
        let backDir = tempDir()
        let back = try SQLiteStore(directory: backDir)
        let again = try await StoreCopy(from: pg, to: back, pageRows: 500).run()
        #expect(there == again)
        // Every row as it was, but for the NUL of a log line: PostgreSQL text holds U+FFFD there.
        var expected = try Self.tables(dir), got = try Self.tables(backDir)
        #expect(expected.removeValue(forKey: "job_logs")?.count == got.removeValue(forKey: "job_logs")?.count)
        #expect(got == expected)
        for job in try await source.jobs(state: nil, type: nil, limit: 100) {
            let before = try await source.jobLogs(job: job.id, afterID: nil, limit: 100)
            let after = try await back.jobLogs(job: job.id, afterID: nil, limit: 100)
            #expect(after.map(\.message) == before.map { $0.message.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") })
            #expect(after.map(\.id) == before.map(\.id) && after.map(\.at) == before.map(\.at))
        }
        let maxJob = try await middle.store.jobs(state: nil, type: nil, limit: 1_000).map(\.id).max() ?? 0
        #expect(try await middle.store.createJob(type: "sleep", params: .object([:]), maxAttempts: 1).id == maxJob + 1)
        let added = try await middle.store.upsertFunctions([FunctionInput(repo: "delta", path: "d.py", qualifiedName: "d", startLine: 1, endLine: 2,
                                                                           signature: "def d():", body: "    pass\n")])
        #expect(added.created == 1)
    }
}
