import Core
import Foundation

/// Functions and repositories on PostgreSQL: the same validation (`SQLiteStore.validate`), outcomes
/// and stale flags as SQLite. `signature` and `body` are bytea columns (UTF-8 bytes, NUL kept).
///
/// ```swift
/// let summary = try await store.upsertFunctions([input])   // ids in input order; created/updated/unchanged
/// let page = try await store.functions(FunctionQuery(repo: "demo", limit: 100))
/// ```
extension PostgresStore {
    static func functionRecord(_ row: PostgresRow) -> FunctionRecord {
        FunctionRecord(
            id: row.int(0), repo: row.text(1), path: row.text(2), qualifiedName: row.text(3), language: row.text(4),
            startLine: Int(row.int(5)), endLine: Int(row.int(6)), signature: row.text(7), body: row.text(8),
            contentHash: row.text(9), bodyHash: row.text(10),
            properties: JSONValue.parse(row.text(11)) ?? .object([:]),
            createdAt: row.double(12), updatedAt: row.double(13))
    }

    public func upsertFunctions(_ items: [FunctionInput]) async throws -> UpsertSummary {
        try SQLiteStore.validate(items)
        return try await write { db in try Self.upsert(items, db) }
    }

    /// The upsert of a validated batch inside the caller's write transaction, set-based: the batch's
    /// keys go in with one binary `COPY`, existing rows come back (one index probe per key, locked
    /// `FOR UPDATE` in id order, so a concurrent writer of the same function waits) in one query,
    /// new functions go in with one `COPY` and one `INSERT … SELECT` (ids in input order, as on
    /// SQLite); only changed functions are updated one by one. Outcomes, hashes and stale flags are
    /// SQLite's. The repository upsert locks each repository's row until commit, so batches of one
    /// repository (from any process) run one after the other, as on SQLite's single writer: two
    /// cannot both insert a new key.
    static func upsert(_ items: [FunctionInput], _ db: PostgresConnection) throws -> UpsertSummary {
        guard !items.isEmpty else { return UpsertSummary(ids: [], created: 0, updated: 0, unchanged: 0) }
        let now = Self.now
        var repoIDs = [String: Int64]()
        for name in Set(items.map(\.repo)).sorted() {  // a fixed order: concurrent batches lock repositories alike
            guard let id = try db.first("""
                INSERT INTO repositories(name, created_at, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET updated_at = excluded.updated_at RETURNING id
                """, [.text(name), .double(now), .double(now)], { $0.int(0) }) else {
                throw PostgresError(message: "repository upsert returned no id")
            }
            repoIDs[name] = id
        }
        let repoOf = items.map { repoIDs[$0.repo] ?? 0 }
        // The lookup below probes the unique index once per key: left to itself the planner hashes
        // the whole functions table for a batch of a few hundred keys (a scan per batch, so ingest
        // slowed with the corpus; 12 ms of a 500-function batch at 20k functions). The settings are
        // local to this transaction and reset right after the lookup.
        try db.execute("DELETE FROM function_keys; DELETE FROM function_load; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        var keys = PostgresCopy()
        for (i, f) in items.enumerated() {
            keys.row(4); keys.int64(Int64(i)); keys.int64(repoOf[i]); keys.text(f.path); keys.text(f.qualifiedName)
        }
        try db.copyIn("COPY function_keys(idx, repo_id, path, qualified_name) FROM STDIN (FORMAT binary)", data: keys.finish())
        typealias Existing = (id: Int64, hash: String, properties: String, start: Int, end: Int, language: String)
        var existing = [Int: Existing]()
        try db.query("""
            SELECT k.idx, f.id, f.content_hash, f.properties, f.start_line, f.end_line, f.language
            FROM function_keys k JOIN functions f ON f.repo_id = k.repo_id AND f.path = k.path AND f.qualified_name = k.qualified_name
            ORDER BY f.id FOR UPDATE OF f
            """) { existing[Int($0.int(0))] = ($0.int(1), $0.text(2), $0.text(3), Int($0.int(4)), Int($0.int(5)), $0.text(6)) }
        try db.execute("RESET enable_hashjoin; RESET enable_mergejoin")
        var ids = [Int64](repeating: 0, count: items.count)
        var created = 0, updated = 0, unchanged = 0
        var load = PostgresCopy()
        for (i, f) in items.enumerated() {
            let contentHash = f.contentHash ?? FunctionHash.content(signature: f.signature, body: f.body)
            let bodyHash = f.bodyHash ?? FunctionHash.body(f.body)
            let properties = (f.properties ?? .object([:])).jsonString()
            let language = f.language ?? "python"
            guard let old = existing[i] else {
                load.row(12)
                load.int64(Int64(i)); load.int64(repoOf[i]); load.text(f.path); load.text(f.qualifiedName); load.text(language)
                load.int64(Int64(f.startLine)); load.int64(Int64(f.endLine)); load.bytes(Data(f.signature.utf8)); load.bytes(Data(f.body.utf8))
                load.text(contentHash); load.text(bodyHash); load.text(properties)
                created += 1
                continue
            }
            ids[i] = old.id
            if old.hash == contentHash {
                if old.properties == properties && old.start == f.startLine && old.end == f.endLine && old.language == language {
                    unchanged += 1
                } else {
                    try db.run("UPDATE functions SET properties = ?, start_line = ?, end_line = ?, language = ?, updated_at = ? WHERE id = ?",
                               [.text(properties), .int(Int64(f.startLine)), .int(Int64(f.endLine)), .text(language), .double(now), .int(old.id)])
                    updated += 1
                }
            } else {
                try db.run("""
                    UPDATE functions SET start_line = ?, end_line = ?, signature = ?, body = ?, content_hash = ?,
                        body_hash = ?, properties = ?, language = ?, updated_at = ? WHERE id = ?
                    """, [.int(Int64(f.startLine)), .int(Int64(f.endLine)), .blob(Data(f.signature.utf8)), .blob(Data(f.body.utf8)),
                          .text(contentHash), .text(bodyHash), .text(properties), .text(language), .double(now), .int(old.id)])
                // The spaces' rows first (the stale-count trigger updates them), in id order like every
                // vector writer, so this never holds vectors while waiting for a space.
                try db.run("SELECT id FROM spaces WHERE id IN (SELECT space_id FROM vectors WHERE function_id = ?) ORDER BY id FOR NO KEY UPDATE",
                           [.int(old.id)])
                try db.run("UPDATE vectors SET stale = 1 WHERE function_id = ?", [.int(old.id)])
                updated += 1
            }
        }
        struct Key: Hashable { var repo: Int64; var path: String; var name: String }
        var insertedIDs = [Key: Int64]()
        if created > 0 {
            try db.copyIn("""
                COPY function_load(idx, repo_id, path, qualified_name, language, start_line, end_line, signature, body,
                    content_hash, body_hash, properties) FROM STDIN (FORMAT binary)
                """, data: load.finish())
            // Rows leave the sort in input order, so identity ids grow with it.
            try db.query("""
                INSERT INTO functions(repo_id, path, qualified_name, language, start_line, end_line, signature, body,
                    content_hash, body_hash, properties, created_at, updated_at)
                SELECT repo_id, path, qualified_name, language, start_line, end_line, signature, body,
                    content_hash, body_hash, properties, ?, ? FROM function_load ORDER BY idx
                RETURNING id, repo_id, path, qualified_name
                """, [.double(now), .double(now)]) { row in
                    insertedIDs[Key(repo: row.int(1), path: row.text(2), name: row.text(3))] = row.int(0)
                }
            for (i, f) in items.enumerated() where existing[i] == nil {
                guard let id = insertedIDs[Key(repo: repoOf[i], path: f.path, name: f.qualifiedName)] else {
                    throw PostgresError(message: "function insert returned no id for \(f.path) \(f.qualifiedName)")
                }
                ids[i] = id
            }
        }
        return UpsertSummary(ids: ids, created: created, updated: updated, unchanged: unchanged)
    }

    public func function(id: Int64) async throws -> FunctionRecord? {
        try await read { db in
            try db.first("SELECT \(SQLiteStore.functionColumns) FROM functions f JOIN repositories r ON r.id = f.repo_id WHERE f.id = ?",
                         [.int(id)], Self.functionRecord)
        }
    }

    public func functions(_ query: FunctionQuery) async throws -> [FunctionRecord] {
        try await read { db in
            let filter = query.whereClause(.postgres)
            var args = filter.args
            let sql = "SELECT \(SQLiteStore.functionColumns) FROM functions f JOIN repositories r ON r.id = f.repo_id WHERE \(filter.sql) ORDER BY f.id LIMIT ?"
            args.append(Self.limit(query.limit))
            return try db.all(sql, args, Self.functionRecord)
        }
    }

    public func functionSummaries(ids: [Int64]) async throws -> [Int64: FunctionSummary] {
        let unique = Array(Set(ids))
        return try await read { db in
            var out = [Int64: FunctionSummary]()
            try db.query("""
                SELECT f.id, r.name, f.path, f.qualified_name, f.signature, f.body_hash
                FROM unnest(?::bigint[]) AS q(id) JOIN functions f ON f.id = q.id JOIN repositories r ON r.id = f.repo_id
                """, [Self.idArray(unique)]) {
                    out[$0.int(0)] = FunctionSummary(id: $0.int(0), repo: $0.text(1), path: $0.text(2), qualifiedName: $0.text(3),
                                                     signature: $0.text(4), bodyHash: $0.text(5))
                }
            return out
        }
    }

    public func deleteFunction(id: Int64) async throws -> Bool {
        try await write { db in try db.run("DELETE FROM functions WHERE id = ?", [.int(id)]) > 0 }
    }
}

extension PostgresStore: CorpusStore {
    public func repositories() async throws -> [RepositoryRecord] {
        try await read { db in
            try db.all(RepositoryRecord.listSQL) {
                RepositoryRecord(id: $0.int(0), name: $0.text(1), path: $0.optionalText(2), functions: Int($0.int(3)),
                                 duplicates: Int($0.int(4)), createdAt: $0.double(5), updatedAt: $0.double(6))
            }
        }
    }

    static func setPath(name: String, path: String, _ db: PostgresConnection) throws {
        let now = Self.now
        try db.run("""
            INSERT INTO repositories(name, path, created_at, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET path = excluded.path, updated_at = excluded.updated_at
            """, [.text(name), .text(path), .double(now), .double(now)])
    }

    public func setRepositoryPath(name: String, path: String) async throws {
        try await write { db in try Self.setPath(name: name, path: path, db) }
    }

    public func pruneFunctions(repo: String, keep: [Int64]) async throws -> Int {
        try await write { db in try Self.prune(repo: repo, keep: keep, db) }
    }

    /// Deletes the repository's functions not in `keep`, inside the caller's write transaction.
    static func prune(repo: String, keep: [Int64], _ db: PostgresConnection) throws -> Int {
        guard let repoID = try db.first("SELECT id FROM repositories WHERE name = ?", [.text(repo)], { $0.int(0) }) else { return 0 }
        return try db.run("DELETE FROM functions WHERE repo_id = ? AND id NOT IN (SELECT unnest(?::bigint[]))", [.int(repoID), Self.idArray(keep)])
    }

    public func replaceRepository(_ name: String, path: String?, functions items: [FunctionInput]) async throws -> ReplaceSummary {
        if let i = items.firstIndex(where: { $0.repo != name }) {
            throw StoreError.inconsistentFunction(index: i, reason: "repo must be '\(name)' (the repository being replaced), got '\(items[i].repo)'")
        }
        try SQLiteStore.validate(items)
        return try await write { db in
            if let path { try Self.setPath(name: name, path: path, db) }
            let summary = try Self.upsert(items, db)
            let removed = try Self.prune(repo: name, keep: summary.ids, db)
            return ReplaceSummary(ids: summary.ids, created: summary.created, updated: summary.updated,
                                  unchanged: summary.unchanged, removed: removed)
        }
    }

    public func functionsMissingVectors(spaces: [String], repo: String?) async throws -> [Int64] {
        try await read(snapshot: true) { db in
            var spaceIDs = [Int64]()
            for name in spaces {
                guard let id = try db.first("SELECT id FROM spaces WHERE name = ?", [.text(name)], { $0.int(0) }) else { continue }
                spaceIDs.append(id)
            }
            var sql = "SELECT f.id FROM functions f"
            var args = [SQLValue]()
            if let repo { sql += " JOIN repositories r ON r.id = f.repo_id AND r.name = ?"; args.append(.text(repo)) }
            sql += " WHERE FALSE"
            if spaceIDs.count < spaces.count { sql += " OR TRUE" }  // a space that does not exist yet: everything is missing
            for id in spaceIDs {
                sql += " OR NOT EXISTS (SELECT 1 FROM vectors v WHERE v.space_id = ? AND v.function_id = f.id AND v.stale = 0)"
                args.append(.int(id))
            }
            sql += " ORDER BY f.id"
            return try db.all(sql, args) { $0.int(0) }
        }
    }

    public func functionTexts(ids: [Int64]) async throws -> [(id: Int64, signature: String, body: String)] {
        try await read { db in
            try db.all("""
                SELECT f.id, f.signature, f.body FROM unnest(?::bigint[]) WITH ORDINALITY AS q(id, ord)
                JOIN functions f ON f.id = q.id ORDER BY q.ord
                """, [Self.idArray(ids)]) { (id: $0.int(0), signature: $0.text(1), body: $0.text(2)) }
        }
    }

    public func functionFacts(ids: [Int64]) async throws -> [Int64: FunctionFacts] {
        try await read { db in
            var out = [Int64: FunctionFacts]()
            try db.query("""
                SELECT f.id, r.name, f.body_hash, f.properties FROM unnest(?::bigint[]) AS q(id)
                JOIN functions f ON f.id = q.id JOIN repositories r ON r.id = f.repo_id
                """, [Self.idArray(Set(ids))]) { row in
                    out[row.int(0)] = FunctionFacts(repo: row.text(1), bodyHash: row.text(2), properties: JSONValue.parse(row.text(3)) ?? .object([:]))
                }
            return out
        }
    }
}
