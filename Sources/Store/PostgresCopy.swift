import Foundation

/// Rows in PostgreSQL's binary `COPY` format, for `PostgresConnection.copyIn`: a header, then per
/// row its field count and each field as a length and bytes (big-endian integers), then a trailer.
///
/// ```swift
/// var copy = PostgresCopy()
/// copy.row(2); copy.int64(7); copy.text("a.py")
/// try db.copyIn("COPY keys(id, path) FROM STDIN (FORMAT binary)", data: copy.finish())
/// ```
struct PostgresCopy {
    private(set) var data = Data([0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00])  // "PGCOPY\n\xff\r\n\0"

    init(reserving bytes: Int = 0) {
        data.reserveCapacity(bytes + 32)
        put(Int32(0)); put(Int32(0))  // flags, header extension length
    }

    private mutating func put<T: FixedWidthInteger>(_ x: T) { withUnsafeBytes(of: x.bigEndian) { data.append(contentsOf: $0) } }

    /// Starts a row of `fields` fields.
    mutating func row(_ fields: Int) { put(Int16(fields)) }
    mutating func int64(_ x: Int64) { put(Int32(8)); put(x) }
    mutating func int32(_ x: Int32) { put(Int32(4)); put(x) }
    mutating func float64(_ x: Double) { put(Int32(8)); put(x.bitPattern) }
    mutating func bytes(_ d: Data) { put(Int32(d.count)); data.append(d) }
    mutating func text(_ s: String) {
        let utf8 = s.utf8
        put(Int32(utf8.count))
        data.append(contentsOf: utf8)
    }

    /// The whole input, trailer included.
    mutating func finish() -> Data {
        put(Int16(-1))
        return data
    }
}
