import Foundation

/// Applies `migrations/<dialect>/NNNN_name.sql` in order, each in its own transaction, and records
/// them in `schema_migrations` (GRDB-style: released migrations are never edited).
///
/// ```swift
/// let applied = try Migrator(directory: Migrator.defaultDirectory(dialect: "sqlite")).migrate(db)
/// ```
public struct Migrator: Sendable {
    public struct Migration: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    public var migrations: [Migration]

    public init(migrations: [Migration]) { self.migrations = migrations.sorted { $0.version < $1.version } }

    /// Reads every `NNNN_name.sql` file of a directory.
    public init(directory: URL) throws {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        var list = [Migration]()
        for file in files where file.pathExtension == "sql" {
            let base = file.deletingPathExtension().lastPathComponent
            guard let underscore = base.firstIndex(of: "_"), let version = Int(base[..<underscore]) else {
                throw SQLiteError(code: 1, message: "migration file name must be NNNN_name.sql: \(file.lastPathComponent)")
            }
            list.append(Migration(version: version, name: String(base[base.index(after: underscore)...]),
                                  sql: try String(contentsOf: file, encoding: .utf8)))
        }
        if Set(list.map(\.version)).count != list.count {
            throw SQLiteError(code: 1, message: "two migrations share a version in \(directory.path)")
        }
        self.init(migrations: list)
    }

    /// Finds `migrations/<dialect>`: `$SWEJEPA_MIGRATIONS`, next to the executable's package, or the source tree.
    public static func defaultDirectory(dialect: String) -> URL {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["SWEJEPA_MIGRATIONS"] {
            return URL(fileURLWithPath: env).appendingPathComponent(dialect)
        }
        var candidates = [URL]()
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 { candidates.append(dir); dir = dir.deletingLastPathComponent() }
        var src = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<3 { src = src.deletingLastPathComponent(); candidates.append(src) }
        candidates.append(URL(fileURLWithPath: fm.currentDirectoryPath))
        for c in candidates {
            let m = c.appendingPathComponent("migrations").appendingPathComponent(dialect)
            if fm.fileExists(atPath: m.path) { return m }
        }
        return URL(fileURLWithPath: "migrations").appendingPathComponent(dialect)
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
        let known = Set(migrations.map(\.version))
        if let unknown = done.subtracting(known).max() {
            throw MigrationError.newerDatabase(version: unknown, newestKnown: migrations.last?.version ?? 0)
        }
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
