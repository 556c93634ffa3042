import Core
import Foundation

extension SQLiteStore: JobStore {
    static let jobColumns = """
        id, type, state, params, result, error, progress, message, attempt, max_attempts, worker, lease_expires_at,
        cancel_requested, created_at, started_at, finished_at, updated_at
        """

    static func jobRecord(_ r: SQLRow) -> JobRecord {
        JobRecord(
            id: r.int(0), type: r.text(1), state: JobState(rawValue: r.text(2)) ?? .failed,
            params: JSONValue.parse(r.text(3)) ?? .object([:]), result: r.optionalText(4).flatMap(JSONValue.parse),
            error: r.optionalText(5), progress: r.double(6), message: r.text(7), attempt: Int(r.int(8)),
            maxAttempts: Int(r.int(9)), worker: r.optionalText(10), leaseExpiresAt: r.isNull(11) ? nil : r.double(11),
            cancelRequested: r.int(12) != 0, createdAt: r.double(13), startedAt: r.isNull(14) ? nil : r.double(14),
            finishedAt: r.isNull(15) ? nil : r.double(15), updatedAt: r.double(16))
    }

    public func createJob(type: String, params: JSONValue, maxAttempts: Int) async throws -> JobRecord {
        try await write { db in
            let now = Self.now
            try db.run("INSERT INTO jobs(type, params, max_attempts, created_at, updated_at, remote) VALUES (?, ?, ?, ?, ?, ?)",
                       [.text(type), .text(params.jsonString()), .int(Int64(maxAttempts)), .double(now), .double(now),
                        .int(Self.isRemote(params) ? 1 : 0)])
            return try db.first("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.int(db.lastInsertRowID)], Self.jobRecord)!
        }
    }

    /// Whether a job's params mark it for remote workers only (`"remote": true`).
    static func isRemote(_ params: JSONValue) -> Bool { params["remote"] == .bool(true) }

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
            args.append(.int(Int64(limit)))
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
        try await write { db in
            let now = Self.now
            // Leases that ran out: the worker died. Fail past max_attempts, else queue again.
            try db.run("""
                UPDATE jobs SET state = 'failed', error = 'worker lost (lease expired) on attempt ' || attempt || ' of ' || max_attempts,
                    finished_at = ?, updated_at = ?, worker = NULL, lease_expires_at = NULL
                WHERE state = 'running' AND lease_expires_at < ? AND attempt >= max_attempts
                """, [.double(now), .double(now), .double(now)])
            try db.run("""
                UPDATE jobs SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END,
                    message = 'worker lost (lease expired); re-queued', updated_at = ?, worker = NULL, lease_expires_at = NULL,
                    finished_at = CASE WHEN cancel_requested = 1 THEN ? ELSE NULL END
                WHERE state = 'running' AND lease_expires_at < ?
                """, [.double(now), .double(now), .double(now)])
            // A remote-only job is claimed by remote workers alone.
            var filter = remote ? "" : " AND remote = 0"
            var args: [SQLValue] = [.text(worker), .double(now + leaseSeconds), .double(now), .double(now)]
            if !types.isEmpty {
                filter += " AND type IN (" + types.map { _ in "?" }.joined(separator: ", ") + ")"
                args += types.map { .text($0) }
            }
            return try db.first("""
                UPDATE jobs SET state = 'running', worker = ?, attempt = attempt + 1, lease_expires_at = ?,
                    started_at = COALESCE(started_at, ?), updated_at = ?
                WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND cancel_requested = 0\(filter) ORDER BY id LIMIT 1)
                RETURNING \(Self.jobColumns)
                """, args, Self.jobRecord)
        }
    }

    public func heartbeat(job: Int64, worker: String, leaseSeconds: Double) async throws -> LeaseStatus {
        try await write { db in
            let now = Self.now
            try db.run("UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE id = ? AND worker = ? AND state = 'running'",
                       [.double(now + leaseSeconds), .double(now), .int(job), .text(worker)])
            return try db.first("SELECT worker = ? AND state = 'running', cancel_requested FROM jobs WHERE id = ?",
                                [.text(worker), .int(job)]) { LeaseStatus(held: $0.int(0) != 0, cancelRequested: $0.int(1) != 0) }
                ?? LeaseStatus(held: false, cancelRequested: false)
        }
    }

    public func releaseJob(job: Int64, worker: String) async throws -> Bool {
        try await write { db in
            let now = Self.now
            return try db.run("""
                UPDATE jobs SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END,
                    attempt = CASE WHEN cancel_requested = 1 THEN attempt ELSE MAX(attempt - 1, 0) END,
                    message = 'handed back; queued again', worker = NULL, lease_expires_at = NULL, updated_at = ?,
                    finished_at = CASE WHEN cancel_requested = 1 THEN ? ELSE NULL END
                WHERE id = ? AND worker = ? AND state = 'running'
                """, [.double(now), .double(now), .int(job), .text(worker)]) == 1
        }
    }

    public func updateProgress(job: Int64, worker: String, progress: Double, message: String) async throws {
        _ = try await write { db in
            try db.run("UPDATE jobs SET progress = ?, message = ?, updated_at = ? WHERE id = ? AND worker = ? AND state = 'running'",
                       [.double(min(1, max(0, progress))), .text(message), .double(Self.now), .int(job), .text(worker)])
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
        _ = try await write { db in
            try db.run("INSERT INTO job_logs(job_id, at, level, message) VALUES (?, ?, ?, ?)",
                       [.int(job), .double(Self.now), .text(level.rawValue), .text(message)])
        }
    }

    public func failJob(job: Int64, worker: String, error: String, retry: Bool) async throws -> JobState? {
        try await write { db in
            let now = Self.now
            return try db.first("""
                UPDATE jobs SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled'
                                             WHEN ? = 1 AND attempt < max_attempts THEN 'queued' ELSE 'failed' END,
                    error = ?, worker = NULL, lease_expires_at = NULL, updated_at = ?,
                    message = CASE WHEN cancel_requested = 0 AND ? = 1 AND attempt < max_attempts
                                   THEN 'failed on attempt ' || attempt || ' of ' || max_attempts || '; re-queued' ELSE message END,
                    finished_at = CASE WHEN cancel_requested = 0 AND ? = 1 AND attempt < max_attempts THEN NULL ELSE ? END
                WHERE id = ? AND worker = ? AND state = 'running'
                RETURNING state
                """, [.int(retry ? 1 : 0), .text(error), .double(now), .int(retry ? 1 : 0), .int(retry ? 1 : 0), .double(now),
                      .int(job), .text(worker)]) { JobState(rawValue: $0.text(0)) ?? .failed }
        }
    }

    @discardableResult
    public func finishJob(job: Int64, worker: String, state: JobState, result: JSONValue?, error: String?) async throws -> Bool {
        try await write { db in
            let now = Self.now
            return try db.run("""
                UPDATE jobs SET state = ?, result = ?, error = ?, progress = CASE WHEN ? = 'succeeded' THEN 1 ELSE progress END,
                    finished_at = ?, updated_at = ?, lease_expires_at = NULL
                WHERE id = ? AND worker = ? AND state = 'running'
                """, [.text(state.rawValue), result.map { .text($0.jsonString()) } ?? .null, error.map { .text($0) } ?? .null,
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
            try db.all("SELECT rowid, step, name, value, at FROM job_metrics WHERE job_id = ? AND rowid > ? ORDER BY rowid LIMIT ?",
                       [.int(job), .int(afterSequence), .int(Int64(limit))]) {
                (sequence: $0.int(0), metric: JobMetric(step: Int($0.int(1)), name: $0.text(2), value: $0.double(3), at: $0.double(4)))
            }
        }
    }

    public func jobLogs(job: Int64, afterID: Int64?, limit: Int) async throws -> [JobLog] {
        try await read { db in
            try db.all("SELECT id, at, level, message FROM job_logs WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?",
                       [.int(job), .int(afterID ?? 0), .int(Int64(limit))]) {
                JobLog(id: $0.int(0), at: $0.double(1), level: LogLevel(rawValue: $0.text(2)) ?? .info, message: $0.text(3))
            }
        }
    }
}
