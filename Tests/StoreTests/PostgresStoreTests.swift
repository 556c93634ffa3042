import Core
import Foundation
import TestSupport
import Testing
@testable import Store

/// What only PostgreSQL has: several processes on one database (concurrent migration, SKIP LOCKED
/// claims), connections that drop under a running store, NOTIFY. Each test runs in a schema of its
/// own on the cluster `SWEJEPA_TEST_PG` names (skipped without it).
@Suite struct PostgresStoreTests {
    static func postgres(_ fresh: TestStore) throws -> PostgresStore {
        try #require(fresh.store as? PostgresStore)
    }

    @Test(arguments: Backend.postgresOnly) func twoStoresMigratingAtOnceApplyEachMigrationOnce(_ backend: Backend) async throws {
        // An empty schema, migrated by four stores opened at the same moment.
        guard let base = Backend.postgresURL else { return }
        let schema = "m_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try PostgresConnection(url: base).execute("CREATE SCHEMA \(schema)")
        defer { try? PostgresConnection(url: base).execute("DROP SCHEMA \(schema) CASCADE") }
        let url = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        // Threads of their own, connected first and released together, so the migrations overlap.
        let results = Mutex<[Result<[Int], any Error>]>([])
        let connected = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0), done = DispatchGroup()
        let n = 4
        for _ in 0..<n {
            done.enter()
            Thread.detachNewThread {
                let result = Result { () throws -> [Int] in
                    let db = try PostgresConnection(url: url)
                    connected.signal()
                    go.wait()
                    return try Migrator.embedded(dialect: "postgres").migrate(postgres: db)
                }
                results.withLock { $0.append(result) }
                done.leave()
            }
        }
        for _ in 0..<n { connected.wait() }
        for _ in 0..<n { go.signal() }
        done.wait()
        let applied = try results.withLock { try $0.map { try $0.get() } }
        let versions = try Migrator.embedded(dialect: "postgres").migrations.map(\.version)
        #expect(applied.flatMap { $0 }.sorted() == versions)
        #expect(applied.filter { !$0.isEmpty }.count == 1)
        let db = try PostgresConnection(url: url)
        #expect(try db.all("SELECT version FROM schema_migrations ORDER BY version") { Int($0.int(0)) } == versions)
        // A database from a newer build is refused before anything runs.
        try db.run("INSERT INTO schema_migrations(version, name, applied_at) VALUES (9999, 'future', 0)")
        #expect(throws: MigrationError.newerDatabase(version: 9999, newestKnown: versions.last ?? 0)) {
            _ = try PostgresStore(url: url, poolSize: 1)
        }
    }

    /// Terminates every connection of the store (its schema is their `application_name`) and waits
    /// until their server processes are gone.
    static func dropConnections(_ fresh: TestStore) throws -> Int {
        let admin = try fresh.adminConnection()
        let pids = try admin.all("SELECT pid FROM pg_stat_activity WHERE application_name = ?", [.text(fresh.schema ?? "")]) { $0.int(0) }
        for pid in pids { _ = try admin.first("SELECT pg_terminate_backend(?::int)", [.int(pid)]) { _ in 0 } }
        for _ in 0..<200 {
            let left = try admin.first("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ANY(?::bigint[]::int[])",
                                       [.text("{" + pids.map(String.init).joined(separator: ",") + "}")]) { $0.int(0) } ?? 0
            if left == 0 { break }
            usleep(10_000)
        }
        usleep(300_000)  // a process leaves pg_stat_activity just before it closes its socket
        return pids.count
    }

    final class Calls: Sendable { let count = Mutex(0) }

    @Test(arguments: Backend.postgresOnly) func aReadOnADroppedConnectionIsRetriedOnAFreshOne(_ backend: Backend) async throws {
        let fresh = try TestStore(backend, poolSize: 1)
        defer { fresh.remove() }
        let store = try Self.postgres(fresh)
        let ids = try await store.upsertFunctions([fn("a")]).ids
        // The connection drops while the read runs: the read runs again on a fresh one.
        let admin = try fresh.adminConnection()
        let calls = Calls()
        let name = try await store.read { db in
            if calls.count.withLock({ $0 += 1; return $0 }) == 1 {
                _ = try admin.first("SELECT pg_terminate_backend(?::int)", [.int(Int64(db.backendPID))]) { _ in 0 }
                usleep(200_000)
            }
            return try db.first("SELECT qualified_name FROM functions WHERE id = ?", [.int(ids[0])]) { $0.text(0) }
        }
        #expect(name == "a" && calls.count.withLock { $0 } == 2)
        // Connections that died while idle in the pool are noticed and replaced before use.
        #expect(try Self.dropConnections(fresh) == 1)
        #expect(try await store.function(id: ids[0])?.qualifiedName == "a")
        #expect(try Self.dropConnections(fresh) == 1)
        _ = try await store.createJob(type: "t", params: [:], maxAttempts: 1)
        #expect(try await store.stats().functions == 1)
    }

    @Test(arguments: Backend.postgresOnly) func aWriteCutOffMidwayThrowsUnavailableAndLeavesNothing(_ backend: Backend) async throws {
        let fresh = try TestStore(backend, poolSize: 1)
        defer { fresh.remove() }
        let store = try Self.postgres(fresh)
        let admin = try fresh.adminConnection()
        do {
            try await store.write { db in
                _ = try PostgresStore.upsert([fn("first")], db)
                _ = try admin.first("SELECT pg_terminate_backend(?::int)", [.int(Int64(db.backendPID))]) { $0.int(0) }
                _ = try PostgresStore.upsert([fn("second")], db)
            }
            Issue.record("a write on a terminated connection succeeded")
        } catch let e as PostgresError {
            #expect(e.category == .unavailable && e.connectionLost, "\(e)")
            let api = APIError(e)
            #expect(api.status == 503 && api.code == "store_unavailable")
        }
        // Nothing of the batch is stored; the next write opens a fresh connection and succeeds.
        #expect(try admin.first("SELECT COUNT(*) FROM functions") { $0.int(0) } == 0)
        _ = try await store.upsertFunctions([fn("after")])
        #expect(try await store.stats().functions == 1)
    }

    @Test(arguments: Backend.postgresOnly) func claimsFromSeveralStoresNeverHandAJobOutTwice(_ backend: Backend) async throws {
        let fresh = try TestStore(backend, poolSize: 3)
        defer { fresh.remove() }
        let stores = [fresh.store] + (try (0..<2).map { _ in try fresh.open(poolSize: 3) })
        for i in 0..<90 { _ = try await fresh.store.createJob(type: i % 2 == 0 ? "a" : "b", params: ["i": .number(Double(i))], maxAttempts: 3) }
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (s, store) in stores.enumerated() {
                for w in 0..<3 {
                    group.addTask {
                        var mine = [Int64]()
                        while let job = try await store.claimJob(worker: "w\(s).\(w)", types: ["a", "b"], leaseSeconds: 60) {
                            mine.append(job.id)
                        }
                        return mine
                    }
                }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        #expect(claimed.count == 90 && Set(claimed).count == 90)
        // An expired lease is rescued once, by whichever claimer notices, and handed to one worker.
        let job = try await fresh.store.createJob(type: "c", params: [:], maxAttempts: 3)
        _ = try #require(try await fresh.store.claimJob(worker: "gone", types: ["c"], leaseSeconds: -1))
        let again = try await withThrowingTaskGroup(of: JobRecord?.self) { group in
            for (s, store) in stores.enumerated() { group.addTask { try await store.claimJob(worker: "r\(s)", types: ["c"], leaseSeconds: 60) } }
            return try await group.reduce(into: [JobRecord]()) { if let j = $1 { $0.append(j) } }
        }
        #expect(again.map(\.id) == [job.id])
        #expect(again.first?.attempt == 2)
    }

    final class Heard: Sendable { let all = Mutex<[PostgresNotification]>([]) }

    @Test(arguments: Backend.postgresOnly) func processesUpsertingTheSameNewFunctionsAtOnceAllSucceed(_ backend: Backend) async throws {
        let fresh = try TestStore(backend, poolSize: 2)
        defer { fresh.remove() }
        let stores = [fresh.store] + (try (0..<3).map { _ in try fresh.open(poolSize: 2) })
        for round in 0..<5 {
            let batch = (0..<40).map { fn("r\(round)_\($0)") }
            let outcomes = try await withThrowingTaskGroup(of: UpsertSummary.self) { group in
                for store in stores + stores { group.addTask { try await store.upsertFunctions(batch) } }
                return try await group.reduce(into: [UpsertSummary]()) { $0.append($1) }
            }
            // As if one after the other: one batch created them, every other found them unchanged.
            #expect(Set(outcomes.map(\.ids)).count == 1)
            #expect(outcomes.map(\.created).reduce(0, +) == 40 && outcomes.map(\.unchanged).reduce(0, +) == 40 * 7)
        }
        #expect(try await fresh.store.stats().functions == 200)
    }

    @Test(arguments: Backend.postgresOnly) func processesWritingOneSpaceAtOnceEachMoveTheGenerationOnce(_ backend: Backend) async throws {
        let fresh = try TestStore(backend, poolSize: 2)
        defer { fresh.remove() }
        let stores = [fresh.store] + (try (0..<3).map { _ in try fresh.open(poolSize: 2) })
        let ids = try await fresh.store.upsertFunctions((0..<20).map { fn("f\($0)") }).ids
        _ = try await fresh.store.createSpace(SpaceInput(name: "s", kind: .bodyMean, dim: 2))
        let generations = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (s, store) in stores.enumerated() {
                group.addTask {
                    var mine = [Int64]()
                    for round in 0..<5 {
                        let batch = Array(ids[(s * 5)..<(s * 5 + 5)])
                        mine.append(try await store.upsertVectors(space: "s", VectorBatch(ids: batch, values: batch.flatMap { [Float($0), Float(round)] })))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        // Twenty writes, twenty distinct generations 1…20; every vector holds its last round.
        #expect(generations.sorted() == Array(1...20))
        let all = try await fresh.store.vectors(space: "s", ids: nil)
        #expect(all.ids == ids && stride(from: 1, to: all.values.count, by: 2).allSatisfy { all.values[$0] == 4 })
    }

    @Test(arguments: Backend.postgresOnly) func notificationsReachAListener(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = try Self.postgres(fresh)
        let tag = fresh.schema ?? "x"
        let stream = store.notifications(channels: [PostgresStore.jobsChannel, PostgresStore.vectorsChannel])
        let admin = try fresh.adminConnection()
        let heard = Heard()
        let listener = Task {
            for await n in stream { heard.all.withLock { $0.append(n) } }
        }
        defer { listener.cancel() }
        func wait(for n: PostgresNotification) async -> Bool {
            for _ in 0..<100 {
                if heard.all.withLock({ $0.contains(n) }) { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return false
        }
        // Listening has begun once a ping comes through.
        var ready = false
        for _ in 0..<50 where !ready {
            _ = try admin.first("SELECT pg_notify('swejepa_jobs', ?)", [.text("ping-\(tag)")]) { _ in 0 }
            ready = await wait(for: .notification(channel: "swejepa_jobs", payload: "ping-\(tag)"))
        }
        #expect(ready)
        _ = try await store.createJob(type: "job-\(tag)", params: [:], maxAttempts: 1)
        #expect(await wait(for: .notification(channel: PostgresStore.jobsChannel, payload: "job-\(tag)")))
        let ids = try await store.upsertFunctions([fn("a")]).ids
        _ = try await store.createSpace(SpaceInput(name: "s-\(tag)", kind: .bodyMean, dim: 2))
        let g = try await store.upsertVectors(space: "s-\(tag)", VectorBatch(ids: ids, values: [1, 2]))
        #expect(await wait(for: .notification(channel: PostgresStore.vectorsChannel, payload: "s-\(tag):\(g)")))
        #expect(try await store.deleteFunction(id: ids[0]))
        #expect(await wait(for: .notification(channel: PostgresStore.vectorsChannel, payload: "s-\(tag):\(g + 1)")))
        // The listening connection dropped: it is reopened, says so, and hears what follows.
        #expect(try Self.dropConnections(fresh) >= 1)
        #expect(await wait(for: .reconnected))
        _ = try await store.createJob(type: "again-\(tag)", params: [:], maxAttempts: 1)
        #expect(await wait(for: .notification(channel: PostgresStore.jobsChannel, payload: "again-\(tag)")))
    }

    /// postgres 0006: no foreign keys on `vectors` and `functions.repo_id`; their cascades are statement
    /// triggers. Deleting a repository by SQL (no route does) takes its functions and their vectors;
    /// deleting a space takes its vectors; nothing else goes.
    @Test(arguments: Backend.postgresOnly) func deletesCascadeThroughTheTriggers(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let a = try await store.upsertFunctions([fn("a1", repo: "ra"), fn("a2", repo: "ra")]).ids
        let b = try await store.upsertFunctions([fn("b1", repo: "rb")]).ids
        for s in ["s", "t"] { _ = try await store.createSpace(SpaceInput(name: s, kind: .custom, dim: 1)) }
        for s in ["s", "t"] { try await store.upsertVectors(space: s, VectorBatch(ids: a + b, values: [1, 2, 3])) }
        guard case .postgres(let url) = fresh.location else { Issue.record("not postgres"); return }
        let db = try PostgresConnection(url: url)
        _ = try db.run("DELETE FROM repositories WHERE name = ?", [.text("ra")])
        #expect(try await store.function(id: a[0]) == nil)
        #expect(try await store.function(id: a[1]) == nil)
        #expect(try await store.function(id: b[0])?.qualifiedName == "b1")
        for s in ["s", "t"] {
            #expect(try await store.vectorLayout(space: s, ids: nil).ids == b)
            #expect(try await store.space(named: s)?.count == 1)
        }
        _ = try db.run("DELETE FROM spaces WHERE name = ?", [.text("s")])
        #expect(try db.first("SELECT COUNT(*) FROM vectors", []) { $0.int(0) } == 1)
        #expect(try await store.vectorLayout(space: "t", ids: nil).ids == b)
    }

    @Test(arguments: Backend.postgresOnly) func blockingCallsRunOnThePoolAndStatsReportTheDatabaseSize(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = try Self.postgres(fresh)
        #expect(store.backendName == "postgres")
        #expect(try await store.read { _ in ThreadPool.currentPoolName } == "swejepa.store.postgres")
        #expect(try await store.write { _ in ThreadPool.currentPoolName } == "swejepa.store.postgres")
        #expect(try await store.stats().databaseBytes > 1_000_000)
        try await store.ping()
    }

    @Test func sqlStatesMapToTheirCategories() {
        let cases: [(PostgresError, Int, String)] = [
            (PostgresError(sqlState: "57P01", message: "terminating connection due to administrator command"), 503, "store_unavailable"),
            (PostgresError(sqlState: "08006", message: "connection failure"), 503, "store_unavailable"),
            (PostgresError(connectionLost: true, message: "server closed the connection unexpectedly"), 503, "store_unavailable"),
            (PostgresError(sqlState: "53100", message: "could not extend file: No space left on device"), 507, "storage_full"),
            (PostgresError(sqlState: "23505", message: "duplicate key value violates unique constraint"), 500, "internal"),
        ]
        for (error, status, code) in cases {
            let api = APIError(error)
            #expect(api.status == status && api.code == code && !api.message.contains(error.message), "\(error)")
        }
    }
}
