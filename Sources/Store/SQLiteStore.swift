import Core
import CSQLite
import Foundation

/// The embedded default store: `DIR/swejepa.sqlite`, WAL, foreign keys, busy timeout, one writer
/// connection used serially on a thread of its own, and up to `readerThreads` concurrent readers
/// (each on a pooled reader connection). Neither runs on Swift's cooperative pool nor Dispatch's.
///
/// ```swift
/// let store = try SQLiteStore(directory: URL(fileURLWithPath: "./data"))
/// print(try await store.stats())
/// ```
public final class SQLiteStore: StoreBackend, Sendable {
    /// Bytes SQLite's allocator holds now in this process (page caches, prepared statements, schema)
    /// and its high-water mark: `sqlite3_memory_used` / `sqlite3_memory_highwater`, for `/metrics`.
    public static func memoryUsed() -> (now: Int, highWater: Int) {
        (Int(sqlite3_memory_used()), Int(sqlite3_memory_highwater(0)))
    }

    /// Most reads at a time (and reader connections kept open).
    public static let readerThreads = 8

    public let path: String
    public var backendName: String { "sqlite" }
    let writer: SQLiteConnection
    /// One thread: the writer connection is used by one transaction at a time, in submission order.
    private let writerThread = ThreadPool.serial(name: "swejepa.store.writer")
    private let readerPool = ThreadPool(name: "swejepa.store.readers", threads: SQLiteStore.readerThreads)
    /// Reader connections not in use.
    private let idleReaders = Mutex<[SQLiteConnection]>([])
    public let appliedMigrations: [Int]

    /// How hard a commit is pushed to the disk before it is acknowledged (SQLite's `synchronous`).
    ///
    /// ```swift
    /// let store = try SQLiteStore(directory: dir, durability: .full)
    /// ```
    public enum Durability: String, Sendable, CaseIterable {
        /// `synchronous=NORMAL` (default): safe against a crash of the process; a power loss or OS
        /// crash can lose the last commits (the database stays consistent).
        case normal
        /// `synchronous=FULL`: every commit is fsynced before it is acknowledged, so it survives a
        /// power loss too; each write transaction costs an extra fsync.
        case full
    }

    /// Opens (creating if needed) the store in `directory` and applies pending migrations.
    public init(directory: URL, migrations: URL? = nil, durability: Durability = .normal) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("swejepa.sqlite").path
        writer = try SQLiteConnection(path: path)
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        try writer.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=\(synchronous); PRAGMA foreign_keys=ON;")
        let migrator = try migrations.map(Migrator.init(directory:)) ?? Migrator.embedded(dialect: "sqlite")
        appliedMigrations = try migrator.migrate(writer)
    }

    /// Runs `body` on the single writer connection inside `BEGIN IMMEDIATE … COMMIT`.
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await writerThread.run { [writer] in try writer.transaction { try body(writer) } }
    }

    /// Runs `body` on a reader connection (a snapshot: one read transaction).
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await readerPool.run { [self] in
            let db = try checkoutReader()
            defer { checkinReader(db) }
            return try db.transaction(immediate: false) { try body(db) }
        }
    }

    private func checkoutReader() throws -> SQLiteConnection {
        if let db = idleReaders.withLock({ $0.popLast() }) { return db }
        let db = try SQLiteConnection(path: path)
        try db.execute("PRAGMA foreign_keys=ON; PRAGMA query_only=ON;")
        return db
    }

    private func checkinReader(_ db: SQLiteConnection) {
        idleReaders.withLock { if $0.count < Self.readerThreads { $0.append(db) } }
    }

    /// Statements kept prepared on the idle reader connections (tests).
    var preparedReaderStatements: Int { idleReaders.withLock { $0.reduce(0) { $0 + $1.cachedStatementCount } } }

    static var now: Double { Date().timeIntervalSince1970 }

    public func ping() async throws {
        _ = try await read { db in try db.first("SELECT 1") { $0.int(0) } }
    }

    public func stats() async throws -> StoreStats {
        let path = self.path
        return try await read { db in
            func count(_ sql: String) throws -> Int { Int(try db.first(sql) { $0.int(0) } ?? 0) }
            var jobs = [String: Int]()
            try db.query("SELECT state, COUNT(*) FROM jobs GROUP BY state") { jobs[$0.text(0)] = Int($0.int(1)) }
            let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil) ?? 0
            let wal = ((try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int64) ?? nil) ?? 0
            return StoreStats(
                repositories: try count("SELECT COUNT(*) FROM repositories"),
                functions: try count("SELECT COUNT(*) FROM functions"),
                duplicateGroups: try count("SELECT COUNT(*) FROM (SELECT body_hash FROM functions GROUP BY body_hash HAVING COUNT(*) > 1)"),
                spaces: try count("SELECT COUNT(*) FROM spaces"),
                vectors: try count("SELECT COUNT(*) FROM vectors"),
                jobs: jobs, databaseBytes: size + wal)
        }
    }

    public func tableCounts() async throws -> [String: Int] {
        try await read { db in
            let tables = try db.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") { $0.text(0) }
            var out = [String: Int]()
            for t in tables { out[t] = Int(try db.first("SELECT COUNT(*) FROM \"\(t)\"") { $0.int(0) } ?? 0) }
            return out
        }
    }
}
