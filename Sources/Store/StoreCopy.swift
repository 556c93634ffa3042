import Core
import Foundation

/// Copies a whole store into an empty one, table by table in pages (ids, generations and JSON kept
/// byte for byte), then reads both again and compares each table's row count and checksum.
///
/// ```swift
/// let copy = StoreCopy(from: sqlite, to: postgres)
/// let report = try await copy.run { table, rows in print(table, rows) }
/// print(report.tables.map { "\($0.name) \($0.rows) \($0.checksum)" })
/// ```
public struct StoreCopy: Sendable {
    public let source: any StoreTransfer
    public let target: any StoreTransfer
    public var pageRows: Int

    /// One table's figures after a verified copy.
    public struct TableReport: Sendable, Equatable {
        public var name: String
        public var rows: Int
        /// Order-independent digest of every row (count and 128-bit sum of per-row SHA-256 prefixes).
        public var checksum: String
    }
    public struct Report: Sendable, Equatable {
        public var tables: [TableReport]
    }

    public init(from source: any StoreTransfer, to target: any StoreTransfer, pageRows: Int = 1_000) {
        self.source = source
        self.target = target
        self.pageRows = pageRows
    }

    /// Copies, then verifies. `progress(table, rowsCopiedSoFar)` is called after every page.
    public func run(progress: (String, Int) -> Void = { _, _ in }) async throws -> Report {
        try await target.prepareImport()
        for table in TransferTable.all {
            var after: [SQLValue]? = nil
            var copied = 0
            while true {
                let rows = try await source.exportPage(table, after: after, limit: pageRows)
                guard let last = rows.last else { break }
                try await target.importRows(table, rows)
                copied += rows.count
                after = table.keyOf(last)
                progress(table.name, copied)
            }
        }
        try await target.finishImport()
        var report = Report(tables: [])
        for table in TransferTable.all {
            let s = try await Self.checksum(table, of: source, pageRows: pageRows)
            let t = try await Self.checksum(table, of: target, pageRows: pageRows)
            guard s == t else {
                throw StoreTransferError.mismatch(table: table.name, source: "\(s.rows) rows \(s.digest)", target: "\(t.rows) rows \(t.digest)")
            }
            report.tables.append(TableReport(name: table.name, rows: s.rows, checksum: s.digest))
        }
        return report
    }

    /// Row count and an order-independent digest of a table's rows (so two backends that order text
    /// keys by different collations still agree).
    public static func checksum(_ table: TransferTable, of store: any StoreTransfer, pageRows: Int = 1_000) async throws -> (rows: Int, digest: String) {
        var after: [SQLValue]? = nil
        var rows = 0
        var high: UInt64 = 0, low: UInt64 = 0
        while true {
            let page = try await store.exportPage(table, after: after, limit: pageRows)
            guard let last = page.last else { break }
            for row in page {
                let hex = SHA256.hex(canonicalBytes(row))
                let (h, l) = (UInt64(hex.prefix(16), radix: 16) ?? 0, UInt64(hex.dropFirst(16).prefix(16), radix: 16) ?? 0)
                let (sum, carry) = low.addingReportingOverflow(l)
                low = sum
                high = high &+ h &+ (carry ? 1 : 0)
            }
            rows += page.count
            after = table.keyOf(last)
        }
        return (rows, String(format: "%016llx%016llx", high, low))
    }

    /// A row's values in one unambiguous byte form (type tag, then length-prefixed or fixed bytes).
    /// A NUL in text counts as U+FFFD: PostgreSQL text cannot hold a NUL and stores U+FFFD instead
    /// (signatures and bodies, where a NUL is data, are kept exactly: `bytea` there).
    static func canonicalBytes(_ row: [SQLValue]) -> [UInt8] {
        var out = [UInt8]()
        func append64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        for value in row {
            switch value {
            case .null: out.append(0)
            case .int(let v): out.append(1); append64(UInt64(bitPattern: v))
            case .double(let v): out.append(2); append64(v.bitPattern)
            case .text(let raw):
                let s = raw.utf8.contains(0) ? raw.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : raw
                out.append(3); append64(UInt64(s.utf8.count)); out += s.utf8
            case .blob(let d): out.append(4); append64(UInt64(d.count)); out += d
            }
        }
        return out
    }
}
