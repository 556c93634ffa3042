import Core
import Foundation

/// Probe results, neighbour lists and search scopes on PostgreSQL, as `SQLiteStore` keeps them.
///
/// ```swift
/// try await store.replaceNeighbours(run: NeighbourRun(space: s, jobID: 8, k: 10, exclude: "repo", functions: n), rows)
/// let scope = try await store.searchScope(SearchScopeRequest(space: space, queryIDs: [12]))
/// ```
extension PostgresStore: AnalysisStore {
    static func probeRecord(_ r: PostgresRow) -> ProbeRecord {
        ProbeRecord(id: r.int(0), jobID: r.isNull(1) ? nil : r.int(1), space: r.text(2), target: r.text(3),
                    task: r.text(4), metric: r.text(5), mean: r.double(6), std: r.double(7), groupBy: r.text(8),
                    result: JSONValue.parse(r.text(9)) ?? .null, createdAt: r.double(10))
    }

    public func addProbeResult(_ input: ProbeRecordInput) async throws -> ProbeRecord {
        guard input.mean.isFinite, input.std.isFinite else {
            throw StoreError.invalidProbeResult(target: input.target)
        }
        return try await write { db in
            guard let record = try db.first("""
                INSERT INTO probe_results(job_id, space, target, task, metric, mean, std, group_by, result, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING \(SQLiteStore.probeColumns)
                """, [input.jobID.map(SQLValue.int) ?? .null, .text(input.space), .text(input.target), .text(input.task),
                      .text(input.metric), .double(input.mean), .double(input.std), .text(input.groupBy),
                      .text(input.result.jsonString()), .double(Self.now)], Self.probeRecord) else {
                throw PostgresError(message: "probe insert returned no row")
            }
            return record
        }
    }

    public func probeResults(_ query: ProbeQuery) async throws -> [ProbeRecord] {
        try await read { db in
            var sql = "SELECT \(SQLiteStore.probeColumns) FROM probe_results WHERE 1 = 1"
            var args = [SQLValue]()
            if let s = query.space { sql += " AND space = ?"; args.append(.text(s)) }
            if let t = query.target { sql += " AND target = ?"; args.append(.text(t)) }
            if let j = query.jobID { sql += " AND job_id = ?"; args.append(.int(j)) }
            sql += " ORDER BY id DESC LIMIT ?"
            args.append(.int(Int64(max(0, query.limit))))
            return try db.all(sql, args, Self.probeRecord)
        }
    }

    public func replaceNeighbours(run: NeighbourRun, _ rows: [NeighbourRow]) async throws {
        for row in rows where !row.score.isFinite || row.rank < 0 {
            throw StoreError.invalidNeighbour(functionID: row.functionID, rank: row.rank, score: row.score)
        }
        try await write { db in
            guard try db.first("SELECT 1 FROM spaces WHERE name = ? FOR KEY SHARE", [.text(run.space)], { $0.int(0) }) != nil else {
                throw StoreError.unknownSpace(run.space)
            }
            try db.run("DELETE FROM neighbours WHERE space = ?", [.text(run.space)])
            try db.run("""
                INSERT INTO neighbour_runs(space, job_id, k, exclude, functions, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(space) DO UPDATE SET job_id = excluded.job_id, k = excluded.k, exclude = excluded.exclude,
                    functions = excluded.functions, created_at = excluded.created_at
                """, [.text(run.space), run.jobID.map(SQLValue.int) ?? .null, .int(Int64(run.k)), .text(run.exclude),
                      .int(Int64(run.functions)), .double(run.createdAt)])
            do {
                // Arrays of up to 10 000 rows per statement (doubles in their shortest exact text form).
                for start in stride(from: 0, to: rows.count, by: 10_000) {
                    let chunk = rows[start..<min(rows.count, start + 10_000)]
                    try db.run("""
                        INSERT INTO neighbours(space, function_id, rank, neighbour_id, score)
                        SELECT ?, f, r, n, s FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::float8[]) AS t(f, r, n, s)
                        """, [.text(run.space), Self.idArray(chunk.map(\.functionID)), Self.idArray(chunk.map { Int64($0.rank) }),
                              Self.idArray(chunk.map(\.neighbourID)), .text("{" + chunk.map { "\($0.score)" }.joined(separator: ",") + "}")])
                }
            } catch let e as PostgresError where e.isConstraint {
                throw StoreError.conflictingNeighbours(space: run.space, reason: e.message)
            }
        }
    }

    public func neighbourRun(space: String) async throws -> NeighbourRun? {
        try await read { db in
            try db.first("SELECT space, job_id, k, exclude, functions, created_at FROM neighbour_runs WHERE space = ?", [.text(space)]) {
                NeighbourRun(space: $0.text(0), jobID: $0.isNull(1) ? nil : $0.int(1), k: Int($0.int(2)), exclude: $0.text(3),
                             functions: Int($0.int(4)), createdAt: $0.double(5))
            }
        }
    }

    static func neighbourRow(_ r: PostgresRow) -> NeighbourRow {
        NeighbourRow(functionID: r.int(0), rank: Int(r.int(1)), neighbourID: r.int(2), score: r.double(3))
    }

    public func neighbours(space: String, functionID: Int64) async throws -> [NeighbourRow] {
        try await read { db in
            try db.all("SELECT function_id, rank, neighbour_id, score FROM neighbours WHERE space = ? AND function_id = ? ORDER BY rank",
                       [.text(space), .int(functionID)], Self.neighbourRow)
        }
    }

    public func neighbours(space: String, after: Int64?, limit: Int) async throws -> [NeighbourRow] {
        try await read { db in
            try db.all("""
                SELECT function_id, rank, neighbour_id, score FROM neighbours
                WHERE space = ? AND function_id IN (
                    SELECT DISTINCT function_id FROM neighbours WHERE space = ? AND function_id > ? ORDER BY function_id LIMIT ?)
                ORDER BY function_id, rank
                """, [.text(space), .text(space), .int(after ?? Int64.min), .int(Int64(max(0, limit)))], Self.neighbourRow)
        }
    }
}

extension PostgresStore {
    public func searchScope(_ request: SearchScopeRequest) async throws -> SearchScope {
        let space = request.space
        return try await read(snapshot: true) { db in
            var scope = SearchScope()
            if let ids = request.queryIDs {
                var facts = [(repo: String, bodyHash: String)?]()
                var missing = [Int64]()
                try db.query("""
                    SELECT q.id, v.data, r.name, f.body_hash FROM unnest(?::bigint[]) WITH ORDINALITY AS q(id, ord)
                    LEFT JOIN vectors v ON v.space_id = ? AND v.function_id = q.id
                    LEFT JOIN functions f ON f.id = v.function_id LEFT JOIN repositories r ON r.id = f.repo_id
                    ORDER BY q.ord
                    """, [Self.idArray(ids), .int(space.id)]) { row in
                        if row.isNull(1) { missing.append(row.int(0)); return }
                        VectorCodec.decode(row.blob(1), as: space.dtype, into: &scope.queries)
                        facts.append(row.isNull(2) ? nil : (repo: row.text(2), bodyHash: row.text(3)))
                    }
                if !missing.isEmpty { throw StoreError.unknownVectors(space: space.name, ids: missing) }
                scope.excludePerQuery = try SearchScope.exclusions(db, ids: ids, facts: facts, request: request)
            }
            if let repos = request.repos { scope.allowOnly = try SearchScope.allowed(db, repos: repos) }
            return scope
        }
    }
}
