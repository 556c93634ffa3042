import Foundation

extension PostgresStore: StoreTransfer {
    /// Columns PostgreSQL keeps as `bytea` where SQLite has text (text cannot hold a NUL there).
    static let byteaColumns: Set<String> = ["functions.signature", "functions.body"]

    public func exportPage(_ table: TransferTable, after: [SQLValue]?, limit: Int) async throws -> [[SQLValue]] {
        let (sql, values) = table.pageQuery(after: after, limit: limit, numbered: false)
        return try await read { db in
            try db.all(sql, values) { row in
                table.columns.enumerated().map { i, column -> SQLValue in
                    let c = Int32(i)
                    if row.isNull(c) { return .null }
                    switch column.type {
                    case .int: return .int(row.int(c))
                    case .double: return .double(row.double(c))
                    case .text: return .text(row.text(c))
                    case .blob: return .blob(row.blob(c))
                    }
                }
            }
        }
    }

    public func prepareImport() async throws {
        try await read { db in
            for table in TransferTable.all {
                let n = Int(try db.first("SELECT COUNT(*) FROM \(table.name)") { $0.int(0) } ?? 0)
                if n > 0 { throw StoreTransferError.targetNotEmpty(table: table.name, rows: n) }
            }
        }
    }

    public func importRows(_ table: TransferTable, _ rows: [[SQLValue]]) async throws {
        let sql = "INSERT INTO \(table.name)(\(table.columns.map(\.name).joined(separator: ", "))) VALUES (\(table.columns.map { _ in "?" }.joined(separator: ", ")))"
        let bytea = table.columns.map { Self.byteaColumns.contains("\(table.name).\($0.name)") }
        try await write { db in
            for row in rows {
                let values = zip(row, bytea).map { value, asBytes -> SQLValue in
                    guard case .text(let s) = value else { return value }
                    // PostgreSQL text cannot hold a NUL: other text columns store U+FFFD, as their writes do.
                    return asBytes ? .blob(Data(s.utf8)) : .text(Self.storable(s))
                }
                try db.run(sql, values)
            }
        }
    }

    /// Identity sequences continue past the copied ids.
    public func finishImport() async throws {
        try await write { db in
            for table in TransferTable.all where table.columns.first?.name == "id" {
                _ = try db.first("SELECT setval(pg_get_serial_sequence('\(table.name)', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM \(table.name)") { $0.int(0) }
            }
        }
    }
}
