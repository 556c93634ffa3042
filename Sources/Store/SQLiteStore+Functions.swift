import Core
import Foundation

extension SQLiteStore {
    static let functionColumns = """
        f.id, r.name, f.path, f.qualified_name, f.language, f.start_line, f.end_line, f.signature, f.body,
        f.content_hash, f.body_hash, f.properties, f.created_at, f.updated_at
        """

    static func functionRecord(_ row: SQLRow) -> FunctionRecord {
        FunctionRecord(
            id: row.int(0), repo: row.text(1), path: row.text(2), qualifiedName: row.text(3), language: row.text(4),
            startLine: Int(row.int(5)), endLine: Int(row.int(6)), signature: row.text(7), body: row.text(8),
            contentHash: row.text(9), bodyHash: row.text(10),
            properties: JSONValue.parse(row.text(11)) ?? .object([:]),
            createdAt: row.double(12), updatedAt: row.double(13))
    }

    /// Checks a batch before it touches the store; throws a `StoreError` naming the first bad item.
    static func validate(_ items: [FunctionInput]) throws {
        var seen = [String: Int]()
        for (i, f) in items.enumerated() {
            func bad(_ m: String) -> StoreError { .invalidFunction(index: i, reason: m) }
            if f.repo.isEmpty { throw bad("repo is empty") }
            if f.path.isEmpty { throw bad("path is empty") }
            if f.qualifiedName.isEmpty { throw bad("qualified_name is empty") }
            // Identifiers never hold NUL (text fields such as body and signature keep it as sent).
            for (field, value) in [("repo", f.repo), ("path", f.path), ("qualified_name", f.qualifiedName), ("language", f.language ?? "")]
            where value.utf8.contains(0) {
                throw bad("\(field) contains a NUL character")
            }
            if f.startLine < 1 { throw bad("start_line must be ≥ 1") }
            if f.endLine < f.startLine { throw StoreError.inconsistentFunction(index: i, reason: "end_line (\(f.endLine)) is before start_line (\(f.startLine))") }
            if case .some(let p) = f.properties, p.objectValue == nil, p != .null { throw bad("properties must be an object") }
            let key = "\(f.repo)\u{0}\(f.path)\u{0}\(f.qualifiedName)"
            if let j = seen[key] {
                throw StoreError.duplicateFunction(index: i, first: j, key: "\(f.repo) \(f.path) \(f.qualifiedName)")
            }
            seen[key] = i
        }
    }

    public func upsertFunctions(_ items: [FunctionInput]) async throws -> UpsertSummary {
        try Self.validate(items)
        return try await write { db in try Self.upsert(items, db) }
    }

    /// The upsert of a validated batch inside the caller's write transaction.
    static func upsert(_ items: [FunctionInput], _ db: SQLiteConnection) throws -> UpsertSummary {
        let now = Self.now
        var repoIDs = [String: Int64]()
        var ids = [Int64](), created = 0, updated = 0, unchanged = 0
        ids.reserveCapacity(items.count)
        for f in items {
            let repoID: Int64
            if let id = repoIDs[f.repo] { repoID = id } else {
                try db.run("INSERT INTO repositories(name, created_at, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET updated_at = excluded.updated_at",
                           [.text(f.repo), .double(now), .double(now)])
                repoID = try db.first("SELECT id FROM repositories WHERE name = ?", [.text(f.repo)]) { $0.int(0) }!
                repoIDs[f.repo] = repoID
            }
            let contentHash = f.contentHash ?? FunctionHash.content(signature: f.signature, body: f.body)
            let bodyHash = f.bodyHash ?? FunctionHash.body(f.body)
            let properties = (f.properties ?? .object([:])).jsonString()
            let existing = try db.first(
                "SELECT id, content_hash, properties, start_line, end_line, language FROM functions WHERE repo_id = ? AND path = ? AND qualified_name = ?",
                [.int(repoID), .text(f.path), .text(f.qualifiedName)]) {
                    ($0.int(0), $0.text(1), $0.text(2), Int($0.int(3)), Int($0.int(4)), $0.text(5))
                }
            let language = f.language ?? "python"
            if let (id, oldHash, oldProps, oldStart, oldEnd, oldLanguage) = existing {
                ids.append(id)
                if oldHash == contentHash {
                    if oldProps == properties && oldStart == f.startLine && oldEnd == f.endLine && oldLanguage == language {
                        unchanged += 1
                    } else {
                        try db.run("UPDATE functions SET properties = ?, start_line = ?, end_line = ?, language = ?, updated_at = ? WHERE id = ?",
                                   [.text(properties), .int(Int64(f.startLine)), .int(Int64(f.endLine)), .text(language), .double(now), .int(id)])
                        updated += 1
                    }
                } else {
                    try db.run("""
                        UPDATE functions SET start_line = ?, end_line = ?, signature = ?, body = ?, content_hash = ?,
                            body_hash = ?, properties = ?, language = ?, updated_at = ? WHERE id = ?
                        """, [.int(Int64(f.startLine)), .int(Int64(f.endLine)), .text(f.signature), .text(f.body),
                              .text(contentHash), .text(bodyHash), .text(properties), .text(language), .double(now), .int(id)])
                    try db.run("UPDATE vectors SET stale = 1 WHERE function_id = ?", [.int(id)])
                    updated += 1
                }
            } else {
                try db.run("""
                    INSERT INTO functions(repo_id, path, qualified_name, language, start_line, end_line, signature, body,
                        content_hash, body_hash, properties, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.int(repoID), .text(f.path), .text(f.qualifiedName), .text(language),
                          .int(Int64(f.startLine)), .int(Int64(f.endLine)), .text(f.signature), .text(f.body),
                          .text(contentHash), .text(bodyHash), .text(properties), .double(now), .double(now)])
                ids.append(db.lastInsertRowID)
                created += 1
            }
        }
        return UpsertSummary(ids: ids, created: created, updated: updated, unchanged: unchanged)
    }

    public func function(id: Int64) async throws -> FunctionRecord? {
        try await read { db in
            try db.first("SELECT \(Self.functionColumns) FROM functions f JOIN repositories r ON r.id = f.repo_id WHERE f.id = ?",
                         [.int(id)], Self.functionRecord)
        }
    }

    public func functions(_ query: FunctionQuery) async throws -> [FunctionRecord] {
        try await read { db in
            let filter = query.whereClause(.sqlite)
            var args = filter.args
            let sql = "SELECT \(Self.functionColumns) FROM functions f JOIN repositories r ON r.id = f.repo_id WHERE \(filter.sql) ORDER BY f.id LIMIT ?"
            args.append(.int(Int64(query.limit)))
            return try db.all(sql, args, Self.functionRecord)
        }
    }

    public func functionSummaries(ids: [Int64]) async throws -> [Int64: FunctionSummary] {
        let unique = Array(Set(ids))
        guard !unique.isEmpty else { return [:] }
        // The ids go in as one JSON array parameter, so the statement text is the same for any number
        // of ids: an `IN (?,?,…)` list made a new statement per count, and every reader connection kept
        // each one prepared (the soak's heap growth, issue 12).
        let list = "[" + unique.map(String.init).joined(separator: ",") + "]"
        return try await read { db in
            var out = [Int64: FunctionSummary]()
            try db.query("""
                SELECT f.id, r.name, f.path, f.qualified_name, f.signature, f.body_hash
                FROM functions f JOIN repositories r ON r.id = f.repo_id WHERE f.id IN (SELECT value FROM json_each(?))
                """, [.text(list)]) {
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
