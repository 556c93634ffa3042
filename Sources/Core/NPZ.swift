import Foundation

/// `.npz` archives (what `np.savez` writes and `np.load` reads): a ZIP of `.npy` members.
///
/// Used to send ids and vectors together:
/// ```swift
/// let body = NPZ.encode(["ids": NPYArray(int64s: ids), "vectors": NPYArray(floats: v, shape: [n, d])])
/// let members = try NPZ.decode(body)   // ["ids": …, "vectors": …]
/// ```
/// Members must be stored uncompressed (`np.savez`, not `np.savez_compressed`).
public enum NPZ {
    public static func encode(_ arrays: [String: NPYArray]) -> Data {
        var out = Data()
        var central = Data()
        var count: UInt16 = 0
        for name in arrays.keys.sorted() {
            let payload = arrays[name]!.encoded()
            let fileName = Array((name + ".npy").utf8)
            let crc = CRC32.checksum(payload)
            let offset = UInt32(out.count)
            out.appendLE(UInt32(0x04034b50)); out.appendLE(UInt16(20)); out.appendLE(UInt16(0))
            out.appendLE(UInt16(0)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0x21))
            out.appendLE(crc); out.appendLE(UInt32(payload.count)); out.appendLE(UInt32(payload.count))
            out.appendLE(UInt16(fileName.count)); out.appendLE(UInt16(0))
            out.append(contentsOf: fileName)
            out.append(payload)
            central.appendLE(UInt32(0x02014b50)); central.appendLE(UInt16(20)); central.appendLE(UInt16(20))
            central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0))
            central.appendLE(UInt16(0x21)); central.appendLE(crc)
            central.appendLE(UInt32(payload.count)); central.appendLE(UInt32(payload.count))
            central.appendLE(UInt16(fileName.count)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0))
            central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt32(0))
            central.appendLE(offset)
            central.append(contentsOf: fileName)
            count += 1
        }
        let centralOffset = UInt32(out.count)
        out.append(central)
        out.appendLE(UInt32(0x06054b50)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
        out.appendLE(count); out.appendLE(count)
        out.appendLE(UInt32(central.count)); out.appendLE(centralOffset); out.appendLE(UInt16(0))
        return out
    }

    /// Parses an `.npz` (ZIP, stored members, ZIP64 extra fields as numpy writes them).
    public static func decode(_ data: Data) throws -> [String: NPYArray] {
        let bytes = [UInt8](data)
        func bad(_ m: String) -> NPYError { .badNPZ(".npz: \(m)") }
        func u16(_ o: Int) throws -> Int {
            guard o >= 0, o + 2 <= bytes.count else { throw bad("truncated") }
            return Int(bytes[o]) | Int(bytes[o + 1]) << 8
        }
        func u32(_ o: Int) throws -> Int { let lo = try u16(o), hi = try u16(o + 2); return lo | hi << 16 }
        func u64(_ o: Int) throws -> Int { let lo = try u32(o), hi = try u32(o + 4); return lo | hi << 32 }
        // End of central directory: search backwards for its signature.
        var eocd = -1
        var i = bytes.count - 22
        while i >= max(0, bytes.count - 22 - 65_535) {
            if bytes[i] == 0x50, bytes[i + 1] == 0x4b, bytes[i + 2] == 0x05, bytes[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record (not a ZIP)") }
        var entries = try u16(eocd + 10)
        var cdOffset = try u32(eocd + 16)
        if entries == 0xFFFF || cdOffset == 0xFFFF_FFFF {
            // ZIP64 end of central directory locator sits just before the EOCD.
            let loc = eocd - 20
            guard loc >= 0, try u32(loc) == 0x07064b50 else { throw bad("missing ZIP64 locator") }
            let z64 = try u64(loc + 8)
            guard try u32(z64) == 0x06064b50 else { throw bad("bad ZIP64 record") }
            entries = try u64(z64 + 32)
            cdOffset = try u64(z64 + 48)
        }
        var result = [String: NPYArray]()
        var p = cdOffset
        for _ in 0..<entries {
            guard try u32(p) == 0x02014b50 else { throw bad("bad central directory entry") }
            let method = try u16(p + 10)
            var compressed = try u32(p + 20)
            var size = try u32(p + 24)
            let nameLength = try u16(p + 28), extraLength = try u16(p + 30), commentLength = try u16(p + 32)
            var localOffset = try u32(p + 42)
            guard p + 46 + nameLength <= bytes.count else { throw bad("truncated") }
            let name = String(decoding: bytes[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try u16(e), len = try u16(e + 2)
                if id == 0x0001 {
                    var q = e + 4
                    if size == 0xFFFF_FFFF { size = try u64(q); q += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = try u64(q); q += 8 }
                    if localOffset == 0xFFFF_FFFF { localOffset = try u64(q); q += 8 }
                }
                e += 4 + len
            }
            guard method == 0 else {
                throw NPYError.unsupported(".npz member '\(name)' is compressed; use np.savez, not np.savez_compressed")
            }
            guard try u32(localOffset) == 0x04034b50 else { throw bad("bad local header for '\(name)'") }
            let localName = try u16(localOffset + 26), localExtra = try u16(localOffset + 28)
            let dataStart = localOffset + 30 + localName + localExtra
            guard dataStart + size <= bytes.count else { throw bad("member '\(name)' is truncated") }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            result[key] = try NPYArray(data: Data(bytes[dataStart..<(dataStart + size)]))
            p += 46 + nameLength + extraLength + commentLength
        }
        return result
    }
}

/// CRC-32 (IEEE), as ZIP needs it.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1 }
        return c
    }
    public static func checksum(_ data: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        data.withUnsafeBytes { raw in
            for b in raw { c = table[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
