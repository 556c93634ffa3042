import Foundation

extension SQLiteStore: StoreTransfer {
    public func exportPage(_ table: TransferTable, after: [SQLValue]?, limit: Int) async throws -> [[SQLValue]] {
        try await read { db in try TransferTable.page(table, from: db, after: after, limit: limit) }
    }

    public func prepareImport() async throws {
        try await read { db in try TransferTable.requireEmpty(db) }
    }

    public func importRows(_ table: TransferTable, _ rows: [[SQLValue]]) async throws {
        try await write { db in
            for row in rows { _ = try db.run(table.insertSQL, row) }
        }
    }

    public func finishImport() async throws {}
}
