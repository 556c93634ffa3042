import Foundation

extension PostgresStore: StoreTransfer {
    /// Columns PostgreSQL keeps as `bytea` where SQLite has text (text cannot hold a NUL there).
    static let byteaColumns: Set<String> = ["functions.signature", "functions.body"]

    public func exportPage(_ table: TransferTable, after: [SQLValue]?, limit: Int) async throws -> [[SQLValue]] {
        try await read { db in try TransferTable.page(table, from: db, after: after, limit: limit) }
    }

    public func prepareImport() async throws {
        try await read { db in try TransferTable.requireEmpty(db) }
    }

    public func importRows(_ table: TransferTable, _ rows: [[SQLValue]]) async throws {
        let bytea = table.columns.map { Self.byteaColumns.contains("\(table.name).\($0.name)") }
        try await write { db in
            for row in rows {
                let values = zip(row, bytea).map { value, asBytes -> SQLValue in
                    guard case .text(let s) = value else { return value }
                    // PostgreSQL text cannot hold a NUL: other text columns store U+FFFD, as their writes do.
                    return asBytes ? .blob(Data(s.utf8)) : .text(Self.storable(s))
                }
                _ = try db.run(table.insertSQL, values)
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
