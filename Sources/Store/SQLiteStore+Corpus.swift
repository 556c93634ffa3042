import Core
import Foundation

extension SQLiteStore: CorpusStore {
    public func repositories() async throws -> [RepositoryRecord] {
        try await read { db in
            try db.all("""
                SELECT r.id, r.name, r.path, (SELECT COUNT(*) FROM functions f WHERE f.repo_id = r.id), r.created_at, r.updated_at
                FROM repositories r ORDER BY r.name
                """) { RepositoryRecord(id: $0.int(0), name: $0.text(1), path: $0.optionalText(2), functions: Int($0.int(3)),
                                        createdAt: $0.double(4), updatedAt: $0.double(5)) }
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
        try await write { db in
            guard let repoID = try db.first("SELECT id FROM repositories WHERE name = ?", [.text(repo)], { $0.int(0) }) else { return 0 }
            try db.execute("CREATE TEMP TABLE IF NOT EXISTS keep_ids(id INTEGER PRIMARY KEY); DELETE FROM keep_ids;")
            for id in keep { try db.run("INSERT OR IGNORE INTO keep_ids(id) VALUES (?)", [.int(id)]) }
            let n = try db.run("DELETE FROM functions WHERE repo_id = ? AND id NOT IN (SELECT id FROM keep_ids)", [.int(repoID)])
            try db.execute("DELETE FROM keep_ids")
            return n
        }
    }
}
