import Foundation

/// The ZIP records an `.npz` is written with (stored members, 32-bit sizes): local headers, a data
/// descriptor for a member whose CRC is known only after its bytes went out (a streamed download),
/// the central directory and its end record. `NPZ.encode` and the server's streamed `.npz` both use them.
///
/// ```swift
/// var out = ZipRecord.local(name: "ids.npy", crc: CRC32.checksum(payload), size: payload.count, deferred: false)
/// ```
public enum ZipRecord {
    /// Bit 3 of the general-purpose flags: CRC and sizes follow the data in a descriptor.
    public static let deferredFlag: UInt16 = 0x08
    public static let dosDate: UInt16 = 0x21  // 1980-01-01

    public static func local(name: String, crc: UInt32, size: Int, deferred: Bool) -> [UInt8] {
        var out = [UInt8]()
        out.le(UInt32(0x04034b50)); out.le(UInt16(20)); out.le(deferred ? deferredFlag : 0)
        out.le(UInt16(0)); out.le(UInt16(0)); out.le(dosDate)
        out.le(crc); out.le(UInt32(size)); out.le(UInt32(size))
        out.le(UInt16(name.utf8.count)); out.le(UInt16(0))
        out += Array(name.utf8)
        return out
    }

    public static func dataDescriptor(crc: UInt32, size: Int) -> [UInt8] {
        var out = [UInt8]()
        out.le(UInt32(0x08074b50)); out.le(crc); out.le(UInt32(size)); out.le(UInt32(size))
        return out
    }

    public static func central(name: String, crc: UInt32, size: Int, offset: Int, deferred: Bool) -> [UInt8] {
        var out = [UInt8]()
        out.le(UInt32(0x02014b50)); out.le(UInt16(20)); out.le(UInt16(20)); out.le(deferred ? deferredFlag : 0)
        out.le(UInt16(0)); out.le(UInt16(0)); out.le(dosDate)
        out.le(crc); out.le(UInt32(size)); out.le(UInt32(size))
        out.le(UInt16(name.utf8.count)); out.le(UInt16(0)); out.le(UInt16(0))
        out.le(UInt16(0)); out.le(UInt16(0)); out.le(UInt32(0)); out.le(UInt32(offset))
        out += Array(name.utf8)
        return out
    }

    public static func end(entries: Int, centralSize: Int, centralOffset: Int) -> [UInt8] {
        var out = [UInt8]()
        out.le(UInt32(0x06054b50)); out.le(UInt16(0)); out.le(UInt16(0))
        out.le(UInt16(entries)); out.le(UInt16(entries))
        out.le(UInt32(centralSize)); out.le(UInt32(centralOffset)); out.le(UInt16(0))
        return out
    }
}

extension [UInt8] {
    fileprivate mutating func le<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
