import Foundation

extension Migrator {
    /// The advisory lock key every swejepa process takes while migrating a PostgreSQL database
    /// ("swejepa" in ASCII), so two processes starting at once apply each migration once.
    public static let postgresLockKey: Int64 = 0x7377_656A_6570_61

    /// Applies pending migrations to a PostgreSQL database under `pg_advisory_lock`, each in its own
    /// transaction (DDL is transactional there, and foreign keys are checked as rows are written, so
    /// a migration that leaves a dangling reference fails and is rolled back); records them in
    /// `schema_migrations` as on SQLite. A database recording a version this build does not know is
    /// refused before anything runs. Returns the versions applied now (empty when another process
    /// applied them first).
    ///
    /// ```swift
    /// let applied = try Migrator.embedded(dialect: "postgres").migrate(postgres: db)
    /// ```
    @discardableResult
    public func migrate(postgres db: PostgresConnection) throws -> [Int] {
        try db.execute("SELECT pg_advisory_lock(\(Self.postgresLockKey))")
        defer { try? db.execute("SELECT pg_advisory_unlock(\(Self.postgresLockKey))") }
        try db.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)
            """)
        let done = Set(try db.all("SELECT version FROM schema_migrations") { Int($0.int(0)) })
        try checkKnown(done)
        var applied = [Int]()
        for m in migrations where !done.contains(m.version) {
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
