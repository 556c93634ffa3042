import Foundation

/// The ZIP records an `.npz` is written with (stored members, 32-bit sizes): local headers, a data
/// descriptor for a member whose CRC is known only after its bytes went out (a streamed download),
/// the central directory and its end record. `NPZ.encode` and the server's streamed `.npz` both use them.
///
/// No ZIP64: a size or offset of 4 GiB − 1 or more (0xFFFFFFFF means "see ZIP64"), more than 65,535
/// entries or a name longer than 65,535 bytes throws `ZipRecord.TooLarge` instead of being
/// truncated into a corrupt archive (or trapping).
///
/// ```swift
/// var out = try ZipRecord.local(name: "ids.npy", crc: CRC32.checksum(payload), size: payload.count, deferred: false)
/// ```
public enum ZipRecord {
    /// A size, offset or count that does not fit the 32-bit (16-bit) field it goes in.
    public struct TooLarge: CategorizedError, Equatable {
        public var what: String
        public var value: Int
        public var category: ErrorCategory { .tooLarge }
        public var code: String { "too_large_for_zip" }
        public var description: String { "the .npz would need a \(what) of \(value), more than a ZIP without ZIP64 holds" }
    }

    /// The largest size or offset written (0xFFFFFFFF is ZIP64's marker).
    public static let maxSize = Int(UInt32.max) - 1

    static func u32(_ value: Int, _ what: String) throws -> UInt32 {
        guard (0...maxSize).contains(value) else { throw TooLarge(what: what, value: value) }
        return UInt32(value)
    }

    static func u16(_ value: Int, _ what: String) throws -> UInt16 {
        guard (0...Int(UInt16.max)).contains(value) else { throw TooLarge(what: what, value: value) }
        return UInt16(value)
    }

    /// Bit 3 of the general-purpose flags: CRC and sizes follow the data in a descriptor.
    public static let deferredFlag: UInt16 = 0x08
    public static let dosDate: UInt16 = 0x21  // 1980-01-01

    public static func local(name: String, crc: UInt32, size: Int, deferred: Bool) throws -> [UInt8] {
        let size = try u32(size, "member size"), nameLength = try u16(name.utf8.count, "name length")
        var out = [UInt8]()
        out.le(UInt32(0x04034b50)); out.le(UInt16(20)); out.le(deferred ? deferredFlag : 0)
        out.le(UInt16(0)); out.le(UInt16(0)); out.le(dosDate)
        out.le(crc); out.le(size); out.le(size)
        out.le(nameLength); out.le(UInt16(0))
        out += Array(name.utf8)
        return out
    }

    public static func dataDescriptor(crc: UInt32, size: Int) throws -> [UInt8] {
        let size = try u32(size, "member size")
        var out = [UInt8]()
        out.le(UInt32(0x08074b50)); out.le(crc); out.le(size); out.le(size)
        return out
    }

    public static func central(name: String, crc: UInt32, size: Int, offset: Int, deferred: Bool) throws -> [UInt8] {
        let size = try u32(size, "member size"), offset = try u32(offset, "member offset")
        let nameLength = try u16(name.utf8.count, "name length")
        var out = [UInt8]()
        out.le(UInt32(0x02014b50)); out.le(UInt16(20)); out.le(UInt16(20)); out.le(deferred ? deferredFlag : 0)
        out.le(UInt16(0)); out.le(UInt16(0)); out.le(dosDate)
        out.le(crc); out.le(size); out.le(size)
        out.le(nameLength); out.le(UInt16(0)); out.le(UInt16(0))
        out.le(UInt16(0)); out.le(UInt16(0)); out.le(UInt32(0)); out.le(offset)
        out += Array(name.utf8)
        return out
    }

    public static func end(entries: Int, centralSize: Int, centralOffset: Int) throws -> [UInt8] {
        let entries = try u16(entries, "entry count")
        let centralSize = try u32(centralSize, "central directory size"), centralOffset = try u32(centralOffset, "central directory offset")
        var out = [UInt8]()
        out.le(UInt32(0x06054b50)); out.le(UInt16(0)); out.le(UInt16(0))
        out.le(entries); out.le(entries)
        out.le(centralSize); out.le(centralOffset); out.le(UInt16(0))
        return out
    }
}

extension [UInt8] {
    fileprivate mutating func le<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
