import CLibPQ
import Core
import Foundation

/// One libpq connection. Not thread-safe: the pool gives each connection to one caller at a time.
///
/// Statements take SQLite-style `?` placeholders (rewritten once to `$1…$n`) and `SQLValue`
/// parameters, sent in binary (int8, float8, text, bytea); results come back in binary and are read
/// through `PostgresRow` by column type. Each distinct statement is prepared once per connection
/// (`PQprepare`), so hot reads skip parsing and planning.
///
/// ```swift
/// let db = try PostgresConnection(url: "postgres://postgres@127.0.0.1:5432/postgres")
/// try db.execute("CREATE TEMP TABLE t(x BIGINT)")
/// try db.run("INSERT INTO t VALUES (?)", [.int(1)])
/// let n = try db.first("SELECT COUNT(*) FROM t") { $0.int(0) }
/// ```
// Safe: a connection is used by one thread at a time (checked out of the store's pool, or the listener's own thread).
public final class PostgresConnection: @unchecked Sendable {
    let handle: OpaquePointer
    /// `StoreLocation.description` of the URL: what messages may show (never the password).
    let location: String
    /// Prepared statements by SQL and parameter types.
    private var prepared: [String: (name: String, sql: String)] = [:]
    /// Statements beyond this many run unprepared (dynamic SQL must not grow the cache without bound).
    static let maxPrepared = 256

    /// Connects with `url` exactly as given (libpq reads the password from it, `PGPASSWORD` or
    /// `.pgpass`). `application_name` defaults to "swejepa" unless the URL sets one.
    public init(url: String) throws {
        location = StoreLocation.postgres(url: url).description
        let keys = ["dbname", "fallback_application_name"], values = [url, "swejepa"]
        let conn: OpaquePointer? = withCStrings(keys) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let conn else { throw PostgresError(connectionLost: true, message: "out of memory connecting to \(location)") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(conn)
            throw PostgresError(connectionLost: true, message: "cannot connect to \(location): \(message)")
        }
        handle = conn
        // Notices ("relation exists, skipping") are not errors and not for stderr.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
    }

    deinit { PQfinish(handle) }

    /// The connection can no longer be used (the server went away or terminated it).
    public var isBroken: Bool { PQstatus(handle) != CONNECTION_OK }

    /// Reads whatever the server sent while the connection sat idle (without blocking): false when
    /// that was the end (a restart's or `pg_terminate_backend`'s FATAL, a closed socket).
    var isAlive: Bool {
        // A closed socket stays readable: read until nothing is pending or the end shows.
        for _ in 0..<4 {
            var fd = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard !isBroken, poll(&fd, 1, 0) > 0 else { return !isBroken }
            if PQconsumeInput(handle) != 1 { return false }
        }
        return !isBroken
    }

    /// The server process serving this connection (for `pg_terminate_backend` in tests).
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// Runs one or more statements with no parameters (text protocol).
    public func execute(_ sql: String) throws {
        let res = PQexec(handle, sql)
        defer { PQclear(res) }
        try check(res)
    }

    /// Runs a statement that returns no rows; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        let res = try exec(sql, values)
        defer { PQclear(res) }
        return Int(String(cString: PQcmdTuples(res))) ?? 0
    }

    /// Runs a query and calls `row` for each result row.
    public func query(_ sql: String, _ values: [SQLValue] = [], row: (PostgresRow) throws -> Void) throws {
        let res = try exec(sql, values)
        defer { PQclear(res) }
        let n = PQntuples(res)
        for i in 0..<n { try row(PostgresRow(res: res, row: i)) }
    }

    /// Runs a query and maps every row.
    public func all<T>(_ sql: String, _ values: [SQLValue] = [], _ map: (PostgresRow) throws -> T) throws -> [T] {
        var out = [T]()
        try query(sql, values) { out.append(try map($0)) }
        return out
    }

    /// The first row mapped, or nil.
    public func first<T>(_ sql: String, _ values: [SQLValue] = [], _ map: (PostgresRow) throws -> T) throws -> T? {
        let res = try exec(sql, values)
        defer { PQclear(res) }
        return PQntuples(res) > 0 ? try map(PostgresRow(res: res, row: 0)) : nil
    }

    /// Runs `body` between `BEGIN` and `COMMIT`; rolls back on any thrown error.
    public func transaction<T>(_ begin: String = "BEGIN", _ body: () throws -> T) throws -> T {
        try execute(begin)
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if !isBroken { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// `COPY … FROM STDIN` with `data` as the whole input (binary COPY when the statement says so).
    public func copyIn(_ sql: String, data: Data) throws {
        let res = PQexec(handle, sql)
        let status = PQresultStatus(res)
        PQclear(res)
        guard status == PGRES_COPY_IN else { throw error(from: nil, sql: sql) }
        let sent: Int32 = data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = min(1 << 20, raw.count - offset)
                let rc = PQputCopyData(handle, raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), Int32(n))
                if rc != 1 { return rc }
                offset += n
            }
            return 1
        }
        if sent != 1 { _ = PQputCopyEnd(handle, "client failed to send data") }
        else if PQputCopyEnd(handle, nil) != 1 { throw error(from: nil, sql: sql) }
        var failure: PostgresError?
        while let res = PQgetResult(handle) {
            if PQresultStatus(res) != PGRES_COMMAND_OK, failure == nil { failure = error(from: res, sql: sql) }
            PQclear(res)
        }
        if let failure { throw failure }
        if sent != 1 { throw error(from: nil, sql: sql) }
    }

    // MARK: - Internals

    private func check(_ res: OpaquePointer?) throws {
        let status = res.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(from: res, sql: nil) }
    }

    /// The error of a failed result (or of the connection when there is none).
    func error(from res: OpaquePointer?, sql: String?) -> PostgresError {
        var state: String?
        var message = String(cString: PQerrorMessage(handle))
        if let res {
            if let s = PQresultErrorField(res, Int32(UInt8(ascii: "C"))) { state = String(cString: s) }
            if let m = PQresultErrorField(res, Int32(UInt8(ascii: "M"))) { message = String(cString: m) }
        }
        message = message.trimmingCharacters(in: .whitespacesAndNewlines)
        let lost = isBroken || PostgresError.isConnectionState(state)
        return PostgresError(sqlState: state, connectionLost: lost, message: message)
    }

    /// Executes a statement (prepared once per connection) with binary parameters and results.
    private func exec(_ sql: String, _ values: [SQLValue]) throws -> OpaquePointer {
        let types: [Oid] = values.map { v in
            switch v {
            case .null: 0
            case .int: 20
            case .double: 701
            case .text: 25
            case .blob: 17
            }
        }
        let key = sql + "\u{0}" + types.map(String.init).joined(separator: ",")
        var statement = prepared[key]
        if statement == nil, prepared.count < Self.maxPrepared {
            let name = "s\(prepared.count)"
            let text = Self.numberedPlaceholders(sql)
            let res = PQprepare(handle, name, text, Int32(types.count), types)
            defer { PQclear(res) }
            try check(res)
            statement = (name, text)
            prepared[key] = statement
        }
        // One buffer for every parameter's bytes, so their pointers stay valid for the call.
        var buffer = [UInt8]()
        var spans = [(offset: Int, count: Int)?]()
        for v in values {
            let start = buffer.count
            switch v {
            case .null: spans.append(nil); continue
            case .int(let x): withUnsafeBytes(of: x.bigEndian) { buffer.append(contentsOf: $0) }
            case .double(let x): withUnsafeBytes(of: x.bitPattern.bigEndian) { buffer.append(contentsOf: $0) }
            case .text(let s): buffer.append(contentsOf: s.utf8)
            case .blob(let d): buffer.append(contentsOf: d)
            }
            spans.append((start, buffer.count - start))
        }
        let lengths = spans.map { Int32($0?.count ?? 0) }
        let formats = [Int32](repeating: 1, count: values.count)
        let res: OpaquePointer? = buffer.withUnsafeBufferPointer { buf in
            let base = UnsafeRawPointer(buf.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self)
            let pointers: [UnsafePointer<CChar>?] = spans.map { span in span.map { base + $0.offset } }
            if let statement {
                return PQexecPrepared(handle, statement.name, Int32(values.count), pointers, lengths, formats, 1)
            }
            return PQexecParams(handle, Self.numberedPlaceholders(sql), Int32(values.count), types, pointers, lengths, formats, 1)
        }
        do { try check(res) } catch {
            PQclear(res)
            throw error
        }
        guard let res else { throw self.error(from: nil, sql: sql) }
        return res
    }

    /// `?` → `$1, $2, …` outside quoted strings, quoted identifiers and dollar-quoted bodies.
    static func numberedPlaceholders(_ sql: String) -> String {
        var out = "", n = 0
        var quote: Character?
        for c in sql {
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// A row of a result in binary format; valid only inside the row callback.
public struct PostgresRow {
    let res: OpaquePointer
    let row: Int32

    public func isNull(_ i: Int32) -> Bool { PQgetisnull(res, row, i) == 1 }

    private func bytes(_ i: Int32) -> UnsafeRawBufferPointer {
        let n = Int(PQgetlength(res, row, i))
        guard n > 0, let p = PQgetvalue(res, row, i) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: p, count: n)
    }

    private func bigEndian<T: FixedWidthInteger>(_ b: UnsafeRawBufferPointer, _: T.Type) -> T {
        guard b.count == MemoryLayout<T>.size else { return 0 }
        return T(bigEndian: b.loadUnaligned(as: T.self))
    }

    /// An integer column (int2/int4/int8, a boolean as 0/1, a float truncated); 0 when NULL.
    public func int(_ i: Int32) -> Int64 {
        let b = bytes(i)
        switch PQftype(res, i) {
        case 20: return bigEndian(b, Int64.self)
        case 23: return Int64(bigEndian(b, Int32.self))
        case 21: return Int64(bigEndian(b, Int16.self))
        case 16: return b.first.map { $0 != 0 ? 1 : 0 } ?? 0
        case 700, 701: return Int64(exactly: double(i).rounded(.towardZero)) ?? 0
        default: return Int64(text(i)) ?? 0
        }
    }

    /// A float column (float4/float8, or an integer converted); 0 when NULL.
    public func double(_ i: Int32) -> Double {
        let b = bytes(i)
        switch PQftype(res, i) {
        case 701: return Double(bitPattern: bigEndian(b, UInt64.self))
        case 700: return Double(Float(bitPattern: bigEndian(b, UInt32.self)))
        case 20, 23, 21, 16: return Double(int(i))
        default: return Double(text(i)) ?? 0
        }
    }

    /// A text or bytea column's bytes as UTF-8 (a NUL inside is kept).
    public func text(_ i: Int32) -> String { String(decoding: bytes(i), as: UTF8.self) }
    public func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
    /// A bytea column's bytes.
    public func blob(_ i: Int32) -> Data {
        let b = bytes(i)
        return b.isEmpty ? Data() : Data(b)
    }
}

/// C strings for a libpq call taking a NULL-terminated array of them.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
