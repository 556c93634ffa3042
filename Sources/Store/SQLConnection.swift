import Foundation

/// A row as the SQL both backends share reads it (SQLite's `SQLRow`, PostgreSQL's `PostgresRow`).
protocol SQLRowReading {
    func int(_ i: Int32) -> Int64
    func double(_ i: Int32) -> Double
    func text(_ i: Int32) -> String
    func blob(_ i: Int32) -> Data
    func isNull(_ i: Int32) -> Bool
}

/// A connection the SQL both backends share runs on: `?` placeholders (PostgreSQL's connection
/// numbers them), values as `SQLValue`. Statements that differ between the dialects stay in each
/// backend's file; the ones that do not are written once against this protocol.
///
/// ```swift
/// static func count(_ db: some SQLConnection, table: String) throws -> Int {
///     Int(try db.first("SELECT COUNT(*) FROM \(table)", []) { $0.int(0) } ?? 0)
/// }
/// ```
protocol SQLConnection {
    associatedtype Row: SQLRowReading
    func run(_ sql: String, _ values: [SQLValue]) throws -> Int
    func query(_ sql: String, _ values: [SQLValue], row: (Row) throws -> Void) throws
    func all<T>(_ sql: String, _ values: [SQLValue], _ map: (Row) throws -> T) throws -> [T]
    func first<T>(_ sql: String, _ values: [SQLValue], _ map: (Row) throws -> T) throws -> T?
}

extension SQLRow: SQLRowReading {}
extension PostgresRow: SQLRowReading {}
extension SQLiteConnection: SQLConnection {}
extension PostgresConnection: SQLConnection {}
