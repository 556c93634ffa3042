import Core
import Foundation

/// The shared store: a PostgreSQL database any number of `serve` and `worker` processes, on any
/// hosts, open at once. Same semantics as `SQLiteStore` (validation, errors, generations, atomic
/// batches); blocking libpq calls run on a `ThreadPool` of `poolSize` threads, each using a pooled
/// connection, never on Swift's cooperative pool.
///
/// A connection that dropped (server restart, network blip, `pg_terminate_backend`) is discarded and
/// a fresh one opened: a read that failed because of it is retried once; a write is never retried
/// once it began (it throws `PostgresError`, category `unavailable`, 503 `store_unavailable`, and the
/// transaction is gone as a whole on the server).
///
/// Vector writes and deletes send `NOTIFY swejepa_vectors, '<space>:<generation>'`, job submissions
/// and requeues `NOTIFY swejepa_jobs, '<type>'`, in the writing transaction; see
/// `notifications(channels:)`.
///
/// ```swift
/// let store = try PostgresStore(url: "postgres://swejepa@db.lan/swejepa", poolSize: 8)
/// print(try await store.stats())
/// for await event in store.notifications(channels: [PostgresStore.jobsChannel]) { … }
/// ```
public final class PostgresStore: StoreBackend, Sendable {
    public static let jobsChannel = "swejepa_jobs"
    public static let vectorsChannel = "swejepa_vectors"

    public var backendName: String { "postgres" }
    let url: String
    /// `StoreLocation.description`: the URL without its password, for every message.
    public let location: String
    public let poolSize: Int
    private let pool: ThreadPool
    private let idle = Mutex<[PostgresConnection]>([])
    public let appliedMigrations: [Int]

    /// Connects, applies pending migrations (under an advisory lock) and keeps the connection.
    public init(url: String, poolSize: Int = 8, migrations: URL? = nil) throws {
        self.url = url
        location = StoreLocation.postgres(url: url).description
        self.poolSize = max(1, poolSize)
        pool = ThreadPool(name: "swejepa.store.postgres", threads: self.poolSize)
        let db = try Self.connect(url)
        let migrator = try migrations.map(Migrator.init(directory:)) ?? Migrator.embedded(dialect: "postgres")
        appliedMigrations = try migrator.migrate(postgres: db)
        idle.withLock { $0.append(db) }
    }

    /// A new connection with the session state the store relies on: the staging tables binary
    /// `COPY` fills (emptied at every commit).
    static func connect(_ url: String) throws -> PostgresConnection {
        let db = try PostgresConnection(url: url)
        try db.execute("""
            CREATE TEMP TABLE IF NOT EXISTS function_keys (
                idx BIGINT NOT NULL, repo_id BIGINT NOT NULL, path TEXT NOT NULL, qualified_name TEXT NOT NULL
            ) ON COMMIT DELETE ROWS;
            CREATE TEMP TABLE IF NOT EXISTS function_load (
                idx BIGINT NOT NULL, repo_id BIGINT NOT NULL, path TEXT NOT NULL, qualified_name TEXT NOT NULL,
                language TEXT NOT NULL, start_line BIGINT NOT NULL, end_line BIGINT NOT NULL, signature BYTEA NOT NULL,
                body BYTEA NOT NULL, content_hash TEXT NOT NULL, body_hash TEXT NOT NULL, properties TEXT NOT NULL
            ) ON COMMIT DELETE ROWS;
            """)
        return db
    }

    /// An idle connection that is still alive (dead ones, e.g. after a server restart, are
    /// dropped), or a new one.
    private func checkout() throws -> PostgresConnection {
        while let db = idle.withLock({ $0.popLast() }) {
            if db.isAlive { return db }
        }
        return try Self.connect(url)
    }

    private func checkin(_ db: PostgresConnection) {
        guard !db.isBroken else { return }
        idle.withLock { if $0.count < poolSize { $0.append(db) } }
    }

    /// Runs `body` on a pooled connection inside `BEGIN … COMMIT`. When a reused connection turns
    /// out dead at `BEGIN` (nothing sent yet), a fresh one is opened; a failure after that is thrown.
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await pool.run { [self] in
            var db = try checkout()
            do { try db.execute("BEGIN") } catch let e as PostgresError where e.connectionLost {
                db = try Self.connect(url)
                try db.execute("BEGIN")
            }
            defer { checkin(db) }
            do {
                let result = try body(db)
                try db.execute("COMMIT")
                return result
            } catch {
                if !db.isBroken { try? db.execute("ROLLBACK") }
                throw error
            }
        }
    }

    /// Runs `body`, whose statements are each atomic on their own (one `UPDATE`, or a writable CTE),
    /// on a pooled connection without `BEGIN`/`COMMIT` round trips (the job queue's hot path). Never
    /// retried: a dropped connection throws (category `unavailable`).
    @discardableResult
    func writeStatements<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await pool.run { [self] in
            let db = try checkout()
            defer { checkin(db) }
            return try body(db)
        }
    }

    /// Runs `body` on a pooled connection (in one REPEATABLE READ snapshot when `snapshot`); a
    /// failure because the connection dropped is retried once on a fresh connection.
    func read<T: Sendable>(snapshot: Bool = false, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await pool.run { [self] in
            func attempt(_ db: PostgresConnection) throws -> T {
                defer { checkin(db) }
                if snapshot { return try db.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { try body(db) } }
                return try body(db)
            }
            do {
                return try attempt(try checkout())
            } catch let e as PostgresError where e.connectionLost {
                return try attempt(try Self.connect(url))
            }
        }
    }

    static var now: Double { Date().timeIntervalSince1970 }

    /// `NOTIFY channel, payload` inside the caller's transaction (delivered at commit).
    static func notify(_ db: PostgresConnection, _ channel: String, _ payload: String) throws {
        _ = try db.first("SELECT pg_notify(?, ?)", [.text(channel), .text(payload)]) { _ in 0 }
    }

    public func ping() async throws {
        _ = try await read { db in try db.first("SELECT 1") { $0.int(0) } }
    }

    public func stats() async throws -> StoreStats {
        try await read(snapshot: true) { db in
            func count(_ sql: String) throws -> Int { Int(try db.first(sql) { $0.int(0) } ?? 0) }
            var jobs = [String: Int]()
            try db.query("SELECT state, COUNT(*) FROM jobs GROUP BY state") { jobs[$0.text(0)] = Int($0.int(1)) }
            return StoreStats(
                repositories: try count("SELECT COUNT(*) FROM repositories"),
                functions: try count("SELECT COUNT(*) FROM functions"),
                duplicateGroups: try count("SELECT COUNT(*) FROM (SELECT body_hash FROM functions GROUP BY body_hash HAVING COUNT(*) > 1) g"),
                spaces: try count("SELECT COUNT(*) FROM spaces"),
                vectors: try count("SELECT COUNT(*) FROM vectors"),
                jobs: jobs,
                databaseBytes: try db.first("SELECT pg_database_size(current_database())") { $0.int(0) } ?? 0)
        }
    }

    public func tableCounts() async throws -> [String: Int] {
        try await read(snapshot: true) { db in
            let tables = try db.all("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1") { $0.text(0) }
            var out = [String: Int]()
            for t in tables {
                let quoted = "\"" + t.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                out[t] = Int(try db.first("SELECT COUNT(*) FROM \(quoted)") { $0.int(0) } ?? 0)
            }
            return out
        }
    }
}

extension PostgresStore {
    /// A `LIMIT` value as SQLite reads it: a negative limit means no limit.
    static func limit(_ n: Int) -> SQLValue { n < 0 ? .null : .int(Int64(n)) }

    /// `{1,2,3}`: an id list as one `?::bigint[]` parameter.
    static func idArray<S: Sequence>(_ ids: S) -> SQLValue where S.Element == Int64 {
        .text("{" + ids.map(String.init).joined(separator: ",") + "}")
    }
}
