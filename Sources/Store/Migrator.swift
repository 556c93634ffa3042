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
    @discardableResult
    public func migrate(_ db: SQLiteConnection) throws -> [Int] {
        try db.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)
            """)
        let done = Set(try db.all("SELECT version FROM schema_migrations") { $0.int(0) })
        var applied = [Int]()
        for m in migrations where !done.contains(Int64(m.version)) {
            try db.transaction {
                try db.execute(m.sql)
                try db.run("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                           [.int(Int64(m.version)), .text(m.name), .double(Date().timeIntervalSince1970)])
            }
            applied.append(m.version)
        }
        return applied
    }
}
