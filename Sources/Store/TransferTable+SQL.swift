import Foundation

extension TransferTable {
    /// A row's values in `columns` order, read as the declared types (NULL kept).
    func values(of row: some SQLRowReading) -> [SQLValue] {
        columns.enumerated().map { i, column -> SQLValue in
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

    /// `INSERT` of one row, every column given (ids kept).
    var insertSQL: String {
        "INSERT INTO \(name)(\(columns.map(\.name).joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
    }

    /// One page of `table` read on `db` (see `StoreTransfer.exportPage`).
    static func page(_ table: TransferTable, from db: some SQLConnection, after: [SQLValue]?, limit: Int) throws -> [[SQLValue]] {
        let (sql, values) = table.pageQuery(after: after, limit: limit, numbered: false)
        return try db.all(sql, values) { table.values(of: $0) }
    }

    /// Throws `targetNotEmpty` naming the first table of `all` that holds a row.
    static func requireEmpty(_ db: some SQLConnection) throws {
        for table in all {
            let n = Int(try db.first("SELECT COUNT(*) FROM \(table.name)", []) { $0.int(0) } ?? 0)
            if n > 0 { throw StoreTransferError.targetNotEmpty(table: table.name, rows: n) }
        }
    }
}
