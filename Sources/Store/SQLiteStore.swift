import Core
import CSQLite
import Foundation

/// The embedded default store: `DIR/swejepa.sqlite`, WAL, foreign keys, busy timeout, one writer
/// connection (serial queue) and a small pool of reader connections.
///
/// ```swift
/// let store = try SQLiteStore(directory: URL(fileURLWithPath: "./data"))
/// print(try await store.stats())
/// ```
public final class SQLiteStore: StoreBackend, @unchecked Sendable {
    public let path: String
    public var backendName: String { "sqlite" }
    let writer: SQLiteConnection
    private let writeQueue = DispatchQueue(label: "swejepa.store.writer")
    private let readQueue = DispatchQueue(label: "swejepa.store.readers", attributes: .concurrent)
    private let readersLock = NSLock()
    private var readers: [SQLiteConnection] = []
    public let appliedMigrations: [Int]

    /// Opens (creating if needed) the store in `directory` and applies pending migrations.
    public init(directory: URL, migrations: URL? = nil) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("swejepa.sqlite").path
        writer = try SQLiteConnection(path: path)
        try writer.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
        let migrator = try migrations.map(Migrator.init(directory:)) ?? Migrator.embedded(dialect: "sqlite")
        appliedMigrations = try migrator.migrate(writer)
    }

    /// Runs `body` on the single writer connection inside `BEGIN IMMEDIATE … COMMIT`.
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in
            writeQueue.async { [writer] in
                cont.resume(with: Result { try writer.transaction { try body(writer) } })
            }
        }
    }

    /// Runs `body` on a reader connection (a snapshot: one read transaction).
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in
            readQueue.async { [self] in
                cont.resume(with: Result {
                    let db = try checkoutReader()
                    defer { checkinReader(db) }
                    return try db.transaction(immediate: false) { try body(db) }
                })
            }
        }
    }

    private func checkoutReader() throws -> SQLiteConnection {
        readersLock.lock()
        if let db = readers.popLast() { readersLock.unlock(); return db }
        readersLock.unlock()
        let db = try SQLiteConnection(path: path)
        try db.execute("PRAGMA foreign_keys=ON; PRAGMA query_only=ON;")
        return db
    }

    private func checkinReader(_ db: SQLiteConnection) {
        readersLock.lock()
        if readers.count < 8 { readers.append(db) }
        readersLock.unlock()
    }

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
