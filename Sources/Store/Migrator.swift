import Foundation

/// Applies `migrations/<dialect>/NNNN_name.sql` in order (SQLite: `migrate(_:)`; PostgreSQL:
/// `migrate(postgres:)` in Migrator+Postgres.swift), each in its own transaction, and records
/// them in `schema_migrations` (GRDB-style: released migrations are never edited).
///
/// The SQL is compiled into the binary (the `EmbedMigrations` build-tool plugin turns the package's
/// `migrations/<dialect>/*.sql` into string literals), so an installed `swejepa` needs no folder next
/// to it; a folder can still be given explicitly (tests, trying a migration out).
///
/// ```swift
/// let applied = try Migrator.embedded(dialect: "sqlite").migrate(db)
/// let fromFolder = try Migrator(directory: URL(fileURLWithPath: "migrations/sqlite"))
/// ```
public struct Migrator: Sendable {
    public struct Migration: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var sql: String

        /// `NNNN_name.sql` and its text.
        init(file: String, sql: String) throws {
            let base = file.hasSuffix(".sql") ? String(file.dropLast(4)) : file
            guard let underscore = base.firstIndex(of: "_"), let version = Int(base[..<underscore]) else {
                throw SQLiteError(code: 1, message: "migration file name must be NNNN_name.sql: \(file)")
            }
            self.init(version: version, name: String(base[base.index(after: underscore)...]), sql: sql)
        }

        init(version: Int, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
        }
    }

    public var migrations: [Migration]

    public init(migrations: [Migration]) { self.migrations = migrations.sorted { $0.version < $1.version } }

    /// Reads every `NNNN_name.sql` file of a directory.
    public init(directory: URL) throws {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        let list = try files.filter { $0.pathExtension == "sql" }.map {
            try Migration(file: $0.lastPathComponent, sql: try String(contentsOf: $0, encoding: .utf8))
        }
        if Set(list.map(\.version)).count != list.count {
            throw SQLiteError(code: 1, message: "two migrations share a version in \(directory.path)")
        }
        self.init(migrations: list)
    }

    /// The dialects whose migrations this build carries (`migrations/<dialect>` folders at build time).
    public static var embeddedDialects: [String] { EmbeddedMigrations.sources.keys.sorted() }

    /// The migrations of `migrations/<dialect>` as they were when this binary was built.
    public static func embedded(dialect: String) throws -> Migrator {
        guard let sources = EmbeddedMigrations.sources[dialect] else {
            throw SQLiteError(code: 1, message: "this build carries no migrations for '\(dialect)' (it has: \(embeddedDialects.joined(separator: ", ")))")
        }
        return Migrator(migrations: try sources.map { try Migration(file: $0.file, sql: $0.sql) })
    }

    /// Applies pending migrations; returns the versions applied now.
    ///
    /// As GRDB does: foreign keys are off while migrations run (so a table rebuild — create, copy,
    /// drop, rename — never fires `ON DELETE CASCADE`), and each migration ends with
    /// `PRAGMA foreign_key_check` inside its transaction, so one that leaves a dangling reference is
    /// rolled back. A database that records a version this build does not know (written by a newer
    /// swejepa) is refused before anything runs.
    @discardableResult
    public func migrate(_ db: SQLiteConnection) throws -> [Int] {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)
            """)
        let done = Set(try db.all("SELECT version FROM schema_migrations") { Int($0.int(0)) })
        try checkKnown(done)
        let pending = migrations.filter { !done.contains($0.version) }
        guard !pending.isEmpty else { return [] }
        let foreignKeys = try db.first("PRAGMA foreign_keys") { $0.int(0) } ?? 0
        try db.execute("PRAGMA foreign_keys = OFF")
        defer { try? db.execute("PRAGMA foreign_keys = \(foreignKeys == 0 ? "OFF" : "ON")") }
        var applied = [Int]()
        for m in pending {
            try db.transaction {
                try db.execute(m.sql)
                let violations = try db.all("PRAGMA foreign_key_check") { row in
                    "\(row.text(0)) rowid \(row.int(1)) → \(row.text(2))"
                }
                if !violations.isEmpty {
                    throw MigrationError.foreignKeyViolation(version: m.version, name: m.name, rows: Array(violations.prefix(5)))
                }
                try db.run("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                           [.int(Int64(m.version)), .text(m.name), .double(Date().timeIntervalSince1970)])
            }
            applied.append(m.version)
        }
        return applied
    }
}

extension Migrator {
    /// Refuses a database that records a version this build does not know (a newer swejepa wrote it).
    func checkKnown(_ done: Set<Int>) throws {
        if let unknown = done.subtracting(migrations.map(\.version)).max() {
            throw MigrationError.newerDatabase(version: unknown, newestKnown: migrations.last?.version ?? 0)
        }
    }
}

/// Why the schema could not be brought up to date (nothing was changed by the failing step).
public enum MigrationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The database records a migration this build does not have: it was written by a newer swejepa.
    case newerDatabase(version: Int, newestKnown: Int)
    /// A migration left rows whose foreign keys point nowhere; it was rolled back.
    case foreignKeyViolation(version: Int, name: String, rows: [String])

    public var description: String {
        switch self {
        case let .newerDatabase(version, newestKnown):
            return "the database has schema version \(version), newer than this build of swejepa knows (up to \(newestKnown)): "
                + "it was written by a newer swejepa; run that version (or a newer one) on it"
        case let .foreignKeyViolation(version, name, rows):
            return "migration \(version)_\(name) left dangling foreign keys (\(rows.joined(separator: "; "))); it was rolled back"
        }
    }
}
