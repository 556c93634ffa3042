import Core
import Foundation

extension SQLiteStore: CorpusStore {
    public func repositories() async throws -> [RepositoryRecord] {
        try await read { db in
            try db.all(RepositoryRecord.listSQL) {
                RepositoryRecord(id: $0.int(0), name: $0.text(1), path: $0.optionalText(2), functions: Int($0.int(3)),
                                 duplicates: Int($0.int(4)), createdAt: $0.double(5), updatedAt: $0.double(6))
            }
        }
    }

    public func setRepositoryPath(name: String, path: String) async throws {
        try await write { db in
            let now = Self.now
            try db.run("""
                INSERT INTO repositories(name, path, created_at, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET path = excluded.path, updated_at = excluded.updated_at
                """, [.text(name), .text(path), .double(now), .double(now)])
        }
    }

    public func pruneFunctions(repo: String, keep: [Int64]) async throws -> Int {
        try await write { db in try Self.prune(repo: repo, keep: keep, db) }
    }

    /// Deletes the repository's functions not in `keep`, inside the caller's write transaction.
    static func prune(repo: String, keep: [Int64], _ db: SQLiteConnection) throws -> Int {
        guard let repoID = try db.first("SELECT id FROM repositories WHERE name = ?", [.text(repo)], { $0.int(0) }) else { return 0 }
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS keep_ids(id INTEGER PRIMARY KEY); DELETE FROM keep_ids;")
        for id in keep { try db.run("INSERT OR IGNORE INTO keep_ids(id) VALUES (?)", [.int(id)]) }
        let n = try db.run("DELETE FROM functions WHERE repo_id = ? AND id NOT IN (SELECT id FROM keep_ids)", [.int(repoID)])
        try db.execute("DELETE FROM keep_ids")
        return n
    }

    public func replaceRepository(_ name: String, path: String?, functions items: [FunctionInput]) async throws -> ReplaceSummary {
        if let i = items.firstIndex(where: { $0.repo != name }) {
            throw StoreError.inconsistentFunction(index: i, reason: "repo must be '\(name)' (the repository being replaced), got '\(items[i].repo)'")
        }
        try Self.validate(items)
        return try await write { db in
            if let path {
                let now = Self.now
                try db.run("""
                    INSERT INTO repositories(name, path, created_at, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET path = excluded.path, updated_at = excluded.updated_at
                    """, [.text(name), .text(path), .double(now), .double(now)])
            }
            let summary = try Self.upsert(items, db)
            let removed = try Self.prune(repo: name, keep: summary.ids, db)
            return ReplaceSummary(ids: summary.ids, created: summary.created, updated: summary.updated,
                                  unchanged: summary.unchanged, removed: removed)
        }
    }

    public func functionsMissingVectors(spaces: [String], repo: String?) async throws -> [Int64] {
        try await read { db in
            var spaceIDs = [Int64]()
            for name in spaces {
                guard let id = try db.first("SELECT id FROM spaces WHERE name = ?", [.text(name)], { $0.int(0) }) else { continue }
                spaceIDs.append(id)
            }
            var sql = "SELECT f.id FROM functions f"
            var args = [SQLValue]()
            if let repo { sql += " JOIN repositories r ON r.id = f.repo_id AND r.name = ?"; args.append(.text(repo)) }
            sql += " WHERE 0"
            if spaceIDs.count < spaces.count { sql += " OR 1" }  // a space that does not exist yet: everything is missing
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
            var out = [(id: Int64, signature: String, body: String)]()
            out.reserveCapacity(ids.count)
            for id in ids {
                if let t = try db.first("SELECT signature, body FROM functions WHERE id = ?", [.int(id)], { ($0.text(0), $0.text(1)) }) {
                    out.append((id, t.0, t.1))
                }
            }
            return out
        }
    }

    public func functionFacts(ids: [Int64]) async throws -> [Int64: FunctionFacts] {
        try await read { db in
            var out = [Int64: FunctionFacts]()
            if ids.count > 2_000 {
                // Cheaper to read everything once than to look up many ids one by one.
                let wanted = Set(ids)
                try db.query("SELECT f.id, r.name, f.body_hash, f.properties FROM functions f JOIN repositories r ON r.id = f.repo_id") { row in
                    let id = row.int(0)
                    if wanted.contains(id) {
                        out[id] = FunctionFacts(repo: row.text(1), bodyHash: row.text(2), properties: JSONValue.parse(row.text(3)) ?? .object([:]))
                    }
                }
                return out
            }
            for id in Set(ids) {
                if let f = try db.first("SELECT r.name, f.body_hash, f.properties FROM functions f JOIN repositories r ON r.id = f.repo_id WHERE f.id = ?",
                                        [.int(id)], { FunctionFacts(repo: $0.text(0), bodyHash: $0.text(1), properties: JSONValue.parse($0.text(2)) ?? .object([:])) }) {
                    out[id] = f
                }
            }
            return out
        }
    }
}
