import CSQLite
import Core
import Foundation

/// An error from SQLite, with the (extended) result code and the engine's message; its category
/// and client-facing code are in SQLiteError+Category.swift.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public var resultCode: Int32
    public var message: String
    public init(code: Int32, message: String) {
        resultCode = code
        self.message = message
    }
    public var description: String { "SQLite error \(resultCode): \(message)" }
    public var isConstraint: Bool { resultCode & 0xff == SQLITE_CONSTRAINT }
    public var isBusy: Bool { resultCode & 0xff == SQLITE_BUSY }
    /// A foreign key constraint failed (`SQLITE_CONSTRAINT_FOREIGNKEY`).
    public var isForeignKey: Bool { resultCode == SQLITE_CONSTRAINT | (3 << 8) }
}

let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A value bound to or read from a statement.
public enum SQLValue: Sendable, Equatable {
    case null, int(Int64), double(Double), text(String), blob(Data)
}

/// One SQLite connection. Not thread-safe: the store gives each connection to one caller at a time.
///
/// ```swift
/// let db = try SQLiteConnection(path: "/tmp/x.sqlite")
/// try db.execute("CREATE TABLE t(x)")
/// try db.run("INSERT INTO t VALUES (?)", [.int(1)])
/// ```
// Safe: a connection is used by one thread at a time (the store's writer thread, or a reader checked out of its pool).
public final class SQLiteConnection: @unchecked Sendable {
    let handle: OpaquePointer
    /// Most prepared statements kept per connection; past it the least recently used one that is not
    /// stepping is finalized (SQL built per call must not pile up prepared statements: issue 12's soak).
    static let statementCacheLimit = 128
    private var cache: [String: (stmt: OpaquePointer, lastUse: UInt64)] = [:]
    private var uses: UInt64 = 0
    /// Statements kept prepared now (tests).
    var cachedStatementCount: Int { cache.count }

    public init(path: String, readOnly: Bool = false) throws {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "\(message) (\(path))")
        }
        handle = db
        sqlite3_busy_timeout(db, 10_000)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        for (_, entry) in cache { sqlite3_finalize(entry.stmt) }
        sqlite3_close_v2(handle)
    }

    var lastError: SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Runs one or more statements with no parameters.
    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &err) != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? "unknown"
            sqlite3_free(err)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: message)
        }
    }

    func prepare(_ sql: String) throws -> OpaquePointer {
        uses &+= 1
        if let stmt = cache[sql]?.stmt {
            cache[sql]?.lastUse = uses
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
            return stmt
        }
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil) == SQLITE_OK, let stmt else {
            throw lastError
        }
        makeRoom()
        cache[sql] = (stmt, uses)
        return stmt
    }

    /// Finalizes least recently used statements until one more fits under the limit. A statement
    /// still stepping (a query whose row callback runs others) is kept.
    private func makeRoom() {
        while cache.count >= Self.statementCacheLimit {
            guard let oldest = cache.filter({ sqlite3_stmt_busy($0.value.stmt) == 0 })
                .min(by: { $0.value.lastUse < $1.value.lastUse }) else { return }
            sqlite3_finalize(oldest.value.stmt)
            cache[oldest.key] = nil
        }
    }

    func bind(_ stmt: OpaquePointer, _ values: [SQLValue]) throws {
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v {
            case .null: rc = sqlite3_bind_null(stmt, idx)
            case .int(let x): rc = sqlite3_bind_int64(stmt, idx, x)
            case .double(let x): rc = sqlite3_bind_double(stmt, idx, x)
            case .text(let s):
                // With its byte count, so a NUL inside the text is stored, not the end of it.
                var s = s
                rc = s.withUTF8 { p in
                    p.withMemoryRebound(to: CChar.self) { c in
                        sqlite3_bind_text64(stmt, idx, c.baseAddress ?? UnsafePointer(bitPattern: 1), sqlite3_uint64(c.count),
                                            SQLITE_TRANSIENT, UInt8(SQLITE_UTF8))
                    }
                }
            case .blob(let d):
                rc = d.withUnsafeBytes { raw in
                    sqlite3_bind_blob64(stmt, idx, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), sqlite3_uint64(raw.count), SQLITE_TRANSIENT)
                }
            }
            if rc != SQLITE_OK { throw lastError }
        }
    }

    /// Runs a statement that returns no rows; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        let stmt = try prepare(sql)
        defer { sqlite3_reset(stmt) }
        try bind(stmt, values)
        var rc = sqlite3_step(stmt)
        while rc == SQLITE_ROW { rc = sqlite3_step(stmt) }
        guard rc == SQLITE_DONE else { throw lastError }
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query and calls `row` for each result row.
    public func query(_ sql: String, _ values: [SQLValue] = [], row: (SQLRow) throws -> Void) throws {
        let stmt = try prepare(sql)
        defer { sqlite3_reset(stmt) }
        try bind(stmt, values)
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw lastError }
            try row(SQLRow(stmt: stmt))
        }
    }

    /// Runs a query and maps every row.
    public func all<T>(_ sql: String, _ values: [SQLValue] = [], _ map: (SQLRow) throws -> T) throws -> [T] {
        var out = [T]()
        try query(sql, values) { out.append(try map($0)) }
        return out
    }

    /// The first row mapped, or nil.
    public func first<T>(_ sql: String, _ values: [SQLValue] = [], _ map: (SQLRow) throws -> T) throws -> T? {
        var out: T?
        let stmt = try prepare(sql)
        defer { sqlite3_reset(stmt) }
        try bind(stmt, values)
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { out = try map(SQLRow(stmt: stmt)) } else if rc != SQLITE_DONE { throw lastError }
        return out
    }

    /// The rowid of the last insert on this connection; set it (e.g. to 0) to tell afterwards whether
    /// an `INSERT … ON CONFLICT DO UPDATE` inserted (it changes) or updated (it does not).
    public var lastInsertRowID: Int64 {
        get { sqlite3_last_insert_rowid(handle) }
        set { sqlite3_set_last_insert_rowid(handle, newValue) }
    }

    /// Runs `body` in a transaction (`BEGIN IMMEDIATE` for writers); rolls back on any thrown error.
    public func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

/// A cached prepared statement stepped once per row of a batch, its parameters bound in place: no
/// `SQLValue` array, no SQL-text lookup and no blob copy per row (blobs are bound `SQLITE_STATIC`,
/// so the caller's buffer must stay valid until `step()` returns; `finish()` drops every binding).
///
/// ```swift
/// let insert = try db.statement("INSERT INTO t(a, b) VALUES (?, ?)")
/// defer { insert.finish() }
/// for (a, b) in rows { try insert.bind(1, int: a); try b.withUnsafeBytes { try insert.bind(2, blob: $0); try insert.step() } }
/// ```
struct SQLStatement {
    let stmt: OpaquePointer
    let db: SQLiteConnection

    func bind(_ index: Int32, int value: Int64) throws {
        if sqlite3_bind_int64(stmt, index, value) != SQLITE_OK { throw db.lastError }
    }

    func bind(_ index: Int32, double value: Double) throws {
        if sqlite3_bind_double(stmt, index, value) != SQLITE_OK { throw db.lastError }
    }

    /// Binds `bytes` without copying them (`SQLITE_STATIC`): valid only until the next `step()` ends.
    func bind(_ index: Int32, blob bytes: UnsafeRawBufferPointer) throws {
        let rc = sqlite3_bind_blob64(stmt, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                                     sqlite3_uint64(bytes.count), nil)
        if rc != SQLITE_OK { throw db.lastError }
    }

    /// Runs the statement to its end (rows it returns are skipped) and resets it for the next row;
    /// the bindings stay until rebound or `finish()`.
    func step() throws {
        var rc = sqlite3_step(stmt)
        while rc == SQLITE_ROW { rc = sqlite3_step(stmt) }
        let error = rc == SQLITE_DONE ? nil : db.lastError
        sqlite3_reset(stmt)
        if let error { throw error }
    }

    /// Steps through the rows the current bindings select, calling `row` for each, then resets the
    /// statement (bindings stay); returns how many rows there were.
    @discardableResult
    func forEachRow(_ row: (SQLRow) throws -> Void) throws -> Int {
        var n = 0
        _ = try forEachRow(while: { try row($0); n += 1; return true })
        return n
    }

    /// Steps through the rows while `row` returns true, then resets the statement (bindings stay);
    /// returns whether every row was seen.
    func forEachRow(while row: (SQLRow) throws -> Bool) throws -> Bool {
        defer { sqlite3_reset(stmt) }
        var rc = sqlite3_step(stmt)
        while rc == SQLITE_ROW {
            if try !row(SQLRow(stmt: stmt)) { return false }
            rc = sqlite3_step(stmt)
        }
        if rc != SQLITE_DONE { throw db.lastError }
        return true
    }

    /// Resets the statement and clears its bindings (no pointer into a caller's buffer outlives the batch).
    func finish() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }
}

extension SQLiteConnection {
    /// The cached prepared statement for `sql`, reset with its bindings cleared, to step row by row.
    func statement(_ sql: String) throws -> SQLStatement { SQLStatement(stmt: try prepare(sql), db: self) }
}

/// A row of a running query; valid only inside the row callback.
public struct SQLRow {
    let stmt: OpaquePointer
    public func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
    public func double(_ i: Int32) -> Double { sqlite3_column_double(stmt, i) }
    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
    /// The column's text, all of its bytes (a NUL inside is kept).
    public func text(_ i: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, i) else { return "" }
        let n = Int(sqlite3_column_bytes(stmt, i))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
    public func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
    public func blob(_ i: Int32) -> Data {
        let n = Int(sqlite3_column_bytes(stmt, i))
        guard n > 0, let p = sqlite3_column_blob(stmt, i) else { return Data() }
        return Data(bytes: p, count: n)
    }
    /// The column's bytes in place, valid only inside `body` (no copy).
    public func withBlob<T>(_ i: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let p = sqlite3_column_blob(stmt, i)
        let n = Int(sqlite3_column_bytes(stmt, i))
        return try body(UnsafeRawBufferPointer(start: n > 0 ? p : nil, count: n > 0 ? n : 0))
    }
}
