import Core
import Foundation

/// Jobs on PostgreSQL, with SQLite's lease, attempt and rescue rules, safe across processes and
/// hosts: expired leases are rescued with `FOR UPDATE SKIP LOCKED` (whichever claimer gets there
/// first, once), and the oldest queued job is claimed with `SELECT … FOR UPDATE SKIP LOCKED`, so
/// concurrent claimers never wait for each other nor get the same job. Submissions and requeues
/// send `NOTIFY swejepa_jobs, '<type>'`.
///
/// ```swift
/// let job = try await store.createJob(type: "embed", params: ["space": "s"], maxAttempts: 3)
/// if let mine = try await store.claimJob(worker: "host:42", types: ["embed"], leaseSeconds: 30) { … }
/// ```
extension PostgresStore: JobStore {
    static func jobRecord(_ r: PostgresRow) -> JobRecord {
        JobRecord(
            id: r.int(0), type: r.text(1), state: JobState(rawValue: r.text(2)) ?? .failed,
            params: JSONValue.parse(r.text(3)) ?? .object([:]), result: r.optionalText(4).flatMap(JSONValue.parse),
            error: r.optionalText(5), progress: r.double(6), message: r.text(7), attempt: Int(r.int(8)),
            maxAttempts: Int(r.int(9)), worker: r.optionalText(10), leaseExpiresAt: r.isNull(11) ? nil : r.double(11),
            cancelRequested: r.int(12) != 0, createdAt: r.double(13), startedAt: r.isNull(14) ? nil : r.double(14),
            finishedAt: r.isNull(15) ? nil : r.double(15), updatedAt: r.double(16))
    }

    static var jobColumns: String { SQLiteStore.jobColumns }

    /// Free text of a job (progress message, error, log line) as PostgreSQL text can hold it: a NUL
    /// becomes U+FFFD (SQLite keeps it; these are human-readable lines, not data).
    static func storable(_ text: String) -> String {
        text.utf8.contains(0) ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    public func createJob(type: String, params: JSONValue, maxAttempts: Int) async throws -> JobRecord {
        try await writeStatements { db in
            let now = Self.now
            // One statement: the row and its NOTIFY commit together.
            guard let job = try db.first("""
                WITH j AS (INSERT INTO jobs(type, params, max_attempts, created_at, updated_at, remote) VALUES (?, ?, ?, ?, ?, ?)
                           RETURNING \(Self.jobColumns))
                SELECT j.*, pg_notify('\(Self.jobsChannel)', j.type) FROM j
                """, [.text(type), .text(params.jsonString()), .int(Int64(maxAttempts)), .double(now), .double(now),
                      .int(SQLiteStore.isRemote(params) ? 1 : 0)], Self.jobRecord) else {
                throw PostgresError(message: "job insert returned no row")
            }
            return job
        }
    }

    public func job(id: Int64) async throws -> JobRecord? {
        try await read { db in try db.first("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.int(id)], Self.jobRecord) }
    }

    public func jobs(state: JobState?, type: String?, before: Int64?, limit: Int) async throws -> [JobRecord] {
        try await read { db in
            var sql = "SELECT \(Self.jobColumns) FROM jobs WHERE 1 = 1"
            var args = [SQLValue]()
            if let state { sql += " AND state = ?"; args.append(.text(state.rawValue)) }
            if let type { sql += " AND type = ?"; args.append(.text(type)) }
            if let before { sql += " AND id < ?"; args.append(.int(before)) }
            sql += " ORDER BY id DESC LIMIT ?"
            args.append(Self.limit(limit))
            return try db.all(sql, args, Self.jobRecord)
        }
    }

    public func claimJob(worker: String, types: [String], leaseSeconds: Double) async throws -> JobRecord? {
        try await claim(worker: worker, types: types, leaseSeconds: leaseSeconds, remote: false)
    }

    public func claimRemoteJob(worker: String, types: [String], leaseSeconds: Double) async throws -> JobRecord? {
        try await claim(worker: worker, types: types, leaseSeconds: leaseSeconds, remote: true)
    }

    /// Rescues expired leases, then claims the oldest queued job of `types` (any type when empty);
    /// a job submitted with `remote: true` (its params say so) only when `remote`.
    private func claim(worker: String, types: [String], leaseSeconds: Double, remote: Bool) async throws -> JobRecord? {
        try await writeStatements { db in
            let now = Self.now
            // Leases that ran out: the worker died. Fail past max_attempts, else queue again (and
            // tell idle workers). Rows another claimer is rescuing right now are skipped: it rescues
            // them, once. One statement, so atomic without a transaction of its own.
            try db.query("""
                WITH failed AS (
                    UPDATE jobs SET state = 'failed', error = 'worker lost (lease expired) on attempt ' || attempt || ' of ' || max_attempts,
                        finished_at = ?, updated_at = ?, worker = NULL, lease_expires_at = NULL
                    WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < ? AND attempt >= max_attempts
                                 FOR UPDATE SKIP LOCKED)
                    RETURNING id),
                requeued AS (
                    UPDATE jobs SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END,
                        message = 'worker lost (lease expired); re-queued', updated_at = ?, worker = NULL, lease_expires_at = NULL,
                        finished_at = CASE WHEN cancel_requested = 1 THEN ? ELSE NULL END
                    WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < ? AND attempt < max_attempts
                                 FOR UPDATE SKIP LOCKED)
                    RETURNING type, state)
                SELECT (SELECT COUNT(*) FROM failed), pg_notify('\(Self.jobsChannel)', t.type)
                FROM (SELECT DISTINCT type FROM requeued WHERE state = 'queued') t
                """, [.double(now), .double(now), .double(now), .double(now), .double(now), .double(now)]) { _ in }
            // Then the oldest queued job, skipping rows other claimers hold: never handed out twice.
            // A remote-only job is claimed by remote workers alone (a column: params are never parsed here).
            var filter = remote ? "" : " AND remote = 0"
            var args: [SQLValue] = [.text(worker), .double(now + leaseSeconds), .double(now), .double(now)]
            if !types.isEmpty {
                filter += " AND type IN (" + types.map { _ in "?" }.joined(separator: ", ") + ")"
                args += types.map { .text($0) }
            }
            return try db.first("""
                UPDATE jobs SET state = 'running', worker = ?, attempt = attempt + 1, lease_expires_at = ?,
                    started_at = COALESCE(started_at, ?), updated_at = ?
                WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND cancel_requested = 0\(filter) ORDER BY id LIMIT 1
                            FOR UPDATE SKIP LOCKED)
                RETURNING \(Self.jobColumns)
                """, args, Self.jobRecord)
        }
    }

    public func heartbeat(job: Int64, worker: String, leaseSeconds: Double) async throws -> LeaseStatus {
        try await writeStatements { db in
            let now = Self.now
            // The SELECT reads the row as it was before the lease moved: holder, state and cancel flag are what it changes not.
            return try db.first("""
                WITH moved AS (UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE id = ? AND worker = ? AND state = 'running' RETURNING id)
                SELECT worker IS NOT DISTINCT FROM ? AND state = 'running', cancel_requested, (SELECT COUNT(*) FROM moved) FROM jobs WHERE id = ?
                """, [.double(now + leaseSeconds), .double(now), .int(job), .text(worker), .text(worker), .int(job)]) {
                    LeaseStatus(held: $0.int(0) != 0, cancelRequested: $0.int(1) != 0)
                } ?? LeaseStatus(held: false, cancelRequested: false)
        }
    }

    public func releaseJob(job: Int64, worker: String) async throws -> Bool {
        try await writeStatements { db in
            let now = Self.now
            return try db.first("""
                WITH released AS (
                    UPDATE jobs SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END,
                        attempt = CASE WHEN cancel_requested = 1 THEN attempt ELSE GREATEST(attempt - 1, 0) END,
                        message = 'handed back; queued again', worker = NULL, lease_expires_at = NULL, updated_at = ?,
                        finished_at = CASE WHEN cancel_requested = 1 THEN ? ELSE NULL END
                    WHERE id = ? AND worker = ? AND state = 'running'
                    RETURNING state, type)
                SELECT CASE WHEN state = 'queued' THEN pg_notify('\(Self.jobsChannel)', type) END FROM released
                """, [.double(now), .double(now), .int(job), .text(worker)], { _ in true }) ?? false
        }
    }

    public func updateProgress(job: Int64, worker: String, progress: Double, message: String) async throws {
        try await writeStatements { db in
            try db.run("UPDATE jobs SET progress = ?, message = ?, updated_at = ? WHERE id = ? AND worker = ? AND state = 'running'",
                       [.double(min(1, max(0, progress))), .text(Self.storable(message)), .double(Self.now), .int(job), .text(worker)])
        }
    }

    public func addMetrics(job: Int64, _ metrics: [JobMetric]) async throws {
        guard !metrics.isEmpty else { return }
        try await write { db in
            for m in metrics where m.value.isFinite {
                try db.run("INSERT INTO job_metrics(job_id, step, name, value, at) VALUES (?, ?, ?, ?, ?)",
                           [.int(job), .int(Int64(m.step)), .text(m.name), .double(m.value), .double(m.at)])
            }
        }
    }

    public func addLog(job: Int64, level: LogLevel, message: String) async throws {
        try await writeStatements { db in
            try db.run("INSERT INTO job_logs(job_id, at, level, message) VALUES (?, ?, ?, ?)",
                       [.int(job), .double(Self.now), .text(level.rawValue), .text(Self.storable(message))])
        }
    }

    public func failJob(job: Int64, worker: String, error: String, retry: Bool) async throws -> JobState? {
        try await writeStatements { db in
            let now = Self.now
            let again: SQLValue = .int(retry ? 1 : 0)
            // One statement: the outcome and, when queued again, its NOTIFY.
            return try db.first("""
                WITH failed AS (
                    UPDATE jobs SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled'
                                                 WHEN ?::bigint = 1 AND attempt < max_attempts THEN 'queued' ELSE 'failed' END,
                        error = ?, worker = NULL, lease_expires_at = NULL, updated_at = ?,
                        message = CASE WHEN cancel_requested = 0 AND ?::bigint = 1 AND attempt < max_attempts
                                       THEN 'failed on attempt ' || attempt || ' of ' || max_attempts || '; re-queued' ELSE message END,
                        finished_at = CASE WHEN cancel_requested = 0 AND ?::bigint = 1 AND attempt < max_attempts THEN NULL ELSE ?::double precision END
                    WHERE id = ? AND worker = ? AND state = 'running'
                    RETURNING state, type)
                SELECT state, CASE WHEN state = 'queued' THEN pg_notify('\(Self.jobsChannel)', type) END FROM failed
                """, [again, .text(Self.storable(error)), .double(now), again, again, .double(now), .int(job), .text(worker)]) {
                    JobState(rawValue: $0.text(0)) ?? .failed
                }
        }
    }

    @discardableResult
    public func finishJob(job: Int64, worker: String, state: JobState, result: JSONValue?, error: String?) async throws -> Bool {
        try await writeStatements { db in
            let now = Self.now
            return try db.run("""
                UPDATE jobs SET state = ?, result = ?, error = ?, progress = CASE WHEN ?::text = 'succeeded' THEN 1 ELSE progress END,
                    finished_at = ?, updated_at = ?, lease_expires_at = NULL
                WHERE id = ? AND worker = ? AND state = 'running'
                """, [.text(state.rawValue), result.map { .text($0.jsonString()) } ?? .null, error.map { .text(Self.storable($0)) } ?? .null,
                      .text(state.rawValue), .double(now), .double(now), .int(job), .text(worker)]) > 0
        }
    }

    public func requestCancel(job: Int64) async throws -> JobRecord? {
        try await write { db in
            let now = Self.now
            try db.run("UPDATE jobs SET state = 'cancelled', cancel_requested = 1, finished_at = ?, updated_at = ? WHERE id = ? AND state = 'queued'",
                       [.double(now), .double(now), .int(job)])
            try db.run("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ? AND state = 'running'",
                       [.double(now), .int(job)])
            return try db.first("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.int(job)], Self.jobRecord)
        }
    }

    public func jobMetrics(job: Int64, name: String?, afterStep: Int?) async throws -> [JobMetric] {
        try await read { db in
            var sql = "SELECT step, name, value, at FROM job_metrics WHERE job_id = ?"
            var args: [SQLValue] = [.int(job)]
            if let name { sql += " AND name = ?"; args.append(.text(name)) }
            if let afterStep { sql += " AND step > ?"; args.append(.int(Int64(afterStep))) }
            sql += " ORDER BY name, step, at"
            return try db.all(sql, args) { JobMetric(step: Int($0.int(0)), name: $0.text(1), value: $0.double(2), at: $0.double(3)) }
        }
    }

    public func jobMetrics(job: Int64, afterSequence: Int64, limit: Int) async throws -> [(sequence: Int64, metric: JobMetric)] {
        try await read { db in
            try db.all("SELECT id, step, name, value, at FROM job_metrics WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?",
                       [.int(job), .int(afterSequence), Self.limit(limit)]) {
                (sequence: $0.int(0), metric: JobMetric(step: Int($0.int(1)), name: $0.text(2), value: $0.double(3), at: $0.double(4)))
            }
        }
    }

    public func jobLogs(job: Int64, afterID: Int64?, limit: Int) async throws -> [JobLog] {
        try await read { db in
            try db.all("SELECT id, at, level, message FROM job_logs WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?",
                       [.int(job), .int(afterID ?? 0), Self.limit(limit)]) {
                JobLog(id: $0.int(0), at: $0.double(1), level: LogLevel(rawValue: $0.text(2)) ?? .info, message: $0.text(3))
            }
        }
    }
}
