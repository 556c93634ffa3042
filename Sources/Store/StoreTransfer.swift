import Foundation

/// One table as `swejepa copy` moves it between backends: its columns (in a fixed order, with the
/// type both backends read them as) and the key pages are ordered by.
///
/// ```swift
/// for table in TransferTable.all { print(table.name, table.columns.map(\.name)) }
/// ```
public struct TransferTable: Sendable, Equatable {
    public enum ColumnType: Sendable, Equatable { case int, double, text, blob }
    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: ColumnType
    }
    public var name: String
    public var columns: [Column]
    /// Columns pages are ordered and continued by (a row-value comparison).
    public var key: [String]
    /// When false, `key` is a group key (e.g. a job's metrics): a page holds whole groups, and rows
    /// within a group are ordered by every column.
    public var keyIsUnique: Bool

    init(_ name: String, key: [String], unique: Bool = true, _ columns: [(String, ColumnType)]) {
        self.name = name
        self.key = key
        self.keyIsUnique = unique
        self.columns = columns.map { Column(name: $0.0, type: $0.1) }
    }

    /// Every table of the store in an order that inserts parents before children. (`schema_migrations`
    /// is not copied: each store records its own migrations; FAISS index files are caches.)
    public static let all: [TransferTable] = [
        TransferTable("repositories", key: ["id"], [("id", .int), ("name", .text), ("path", .text), ("created_at", .double), ("updated_at", .double)]),
        TransferTable("functions", key: ["id"], [
            ("id", .int), ("repo_id", .int), ("path", .text), ("qualified_name", .text), ("language", .text),
            ("start_line", .int), ("end_line", .int), ("signature", .text), ("body", .text), ("content_hash", .text),
            ("body_hash", .text), ("properties", .text), ("created_at", .double), ("updated_at", .double)]),
        TransferTable("spaces", key: ["id"], [
            ("id", .int), ("name", .text), ("model", .text), ("layer", .int), ("kind", .text), ("dim", .int),
            ("dtype", .text), ("metric", .text), ("index_factory", .text), ("generation", .int), ("created_at", .double),
            ("changes_since", .int), ("n_vectors", .int), ("n_stale", .int)]),
        TransferTable("vectors", key: ["space_id", "function_id"], [
            ("space_id", .int), ("function_id", .int), ("n_rows", .int), ("data", .blob), ("stale", .int),
            ("truncated", .int), ("updated_at", .double), ("generation", .int)]),
        TransferTable("vector_deletions", key: ["space_id", "generation", "function_id"], [
            ("space_id", .int), ("generation", .int), ("function_id", .int)]),
        TransferTable("jobs", key: ["id"], [
            ("id", .int), ("type", .text), ("state", .text), ("params", .text), ("result", .text), ("error", .text),
            ("progress", .double), ("message", .text), ("attempt", .int), ("max_attempts", .int), ("worker", .text),
            ("lease_expires_at", .double), ("cancel_requested", .int), ("created_at", .double), ("started_at", .double),
            ("finished_at", .double), ("updated_at", .double), ("remote", .int)]),
        TransferTable("job_metrics", key: ["job_id"], unique: false, [
            ("job_id", .int), ("step", .int), ("name", .text), ("value", .double), ("at", .double)]),
        TransferTable("job_logs", key: ["id"], [("id", .int), ("job_id", .int), ("at", .double), ("level", .text), ("message", .text)]),
        TransferTable("probe_results", key: ["id"], [
            ("id", .int), ("job_id", .int), ("space", .text), ("target", .text), ("task", .text), ("metric", .text),
            ("mean", .double), ("std", .double), ("group_by", .text), ("result", .text), ("created_at", .double)]),
        TransferTable("neighbour_runs", key: ["space"], [
            ("space", .text), ("job_id", .int), ("k", .int), ("exclude", .text), ("functions", .int), ("created_at", .double)]),
        TransferTable("neighbours", key: ["space", "function_id", "rank"], [
            ("space", .text), ("function_id", .int), ("rank", .int), ("neighbour_id", .int), ("score", .double)]),
    ]

    /// `SELECT` of one page: rows after `after` (a key value, nil: from the start), at most `limit`
    /// rows (whole groups for a group key); `?` placeholders are numbered `$1…` when `numbered`.
    func pageQuery(after: [SQLValue]?, limit: Int, numbered: Bool) -> (sql: String, values: [SQLValue]) {
        var n = 0
        func p() -> String { n += 1; return numbered ? "$\(n)" : "?" }
        let cols = columns.map(\.name).joined(separator: ", ")
        let keyList = key.joined(separator: ", ")
        let order = keyIsUnique ? keyList : columns.map(\.name).joined(separator: ", ")
        var values = [SQLValue]()
        var conditions = [String]()
        if let after {
            conditions.append("(\(keyList)) > (\(after.map { _ in p() }.joined(separator: ", ")))")
            values += after
        }
        if keyIsUnique {
            let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            let sql = "SELECT \(cols) FROM \(name)\(whereClause) ORDER BY \(order) LIMIT \(p())"
            return (sql, values + [.int(Int64(limit))])
        }
        // Whole groups: up to the key of the limit-th row after `after`.
        var inner = "SELECT \(keyList) FROM \(name)"
        if let after {
            inner += " WHERE (\(keyList)) > (\(after.map { _ in p() }.joined(separator: ", ")))"
            values += after
        }
        inner += " ORDER BY \(keyList) LIMIT \(p())"
        values.append(.int(Int64(limit)))
        conditions.append("(\(keyList)) <= (SELECT MAX(\(keyList)) FROM (\(inner)) AS page_keys)")
        let sql = "SELECT \(cols) FROM \(name) WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order)"
        return (sql, values)
    }

    /// The key of a row (the values of `key`'s columns).
    func keyOf(_ row: [SQLValue]) -> [SQLValue] {
        key.map { k in row[columns.firstIndex { $0.name == k }!] }
    }
}

/// A store that can be read and filled table by table (`swejepa copy`).
public protocol StoreTransfer: Sendable {
    /// Rows of `table` after key `after` (nil: from the start), in key order, at most `limit` (whole
    /// groups for a group key); values in `table.columns` order and types.
    func exportPage(_ table: TransferTable, after: [SQLValue]?, limit: Int) async throws -> [[SQLValue]]
    /// Refuses a store that holds anything (a copy goes into an empty store).
    func prepareImport() async throws
    /// Inserts rows as they are (ids kept), in one transaction.
    func importRows(_ table: TransferTable, _ rows: [[SQLValue]]) async throws
    /// After the last rows: whatever makes new rows get fresh ids (PostgreSQL's sequences).
    func finishImport() async throws
}

/// Why a copy stopped.
public enum StoreTransferError: Error, Equatable, Sendable, CustomStringConvertible {
    case targetNotEmpty(table: String, rows: Int)
    case notTransferable(backend: String)
    case mismatch(table: String, source: String, target: String)

    public var description: String {
        switch self {
        case let .targetNotEmpty(t, n): "the target store is not empty (\(t) holds \(n) rows); copy into a new store"
        case .notTransferable(let b): "the \(b) store cannot be copied from or to"
        case let .mismatch(t, s, d): "\(t) differs after the copy (source \(s), target \(d)); was the source written to during the copy?"
        }
    }
}
