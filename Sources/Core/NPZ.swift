import Foundation

/// `.npz` archives (what `np.savez` writes and `np.load` reads): a ZIP of `.npy` members.
///
/// Used to send ids and vectors together:
/// ```swift
/// let body = try NPZ.encode(["ids": NPYArray(int64s: ids), "vectors": NPYArray(floats: v, shape: [n, d])])
/// let members = try NPZ.decode(body)   // ["ids": …, "vectors": …]
/// ```
/// Members must be stored uncompressed (`np.savez`, not `np.savez_compressed`).
public enum NPZ {
    public static func encode(_ arrays: [String: NPYArray]) throws -> Data {
        var out = [UInt8]()
        var central = [UInt8]()
        let names = arrays.keys.sorted()
        for name in names {
            let payload = arrays[name]!.encoded()
            let crc = CRC32.checksum(payload)
            central += try ZipRecord.central(name: name + ".npy", crc: crc, size: payload.count, offset: out.count, deferred: false)
            out += try ZipRecord.local(name: name + ".npy", crc: crc, size: payload.count, deferred: false)
            out += payload
        }
        let centralOffset = out.count
        out += central
        out += try ZipRecord.end(entries: names.count, centralSize: central.count, centralOffset: centralOffset)
        return Data(out)
    }

    /// Parses an `.npz` (ZIP, stored members, ZIP64 extra fields as numpy writes them).
    ///
    /// Every size and offset comes from the body, so each is range-checked with overflow-checked
    /// arithmetic before use; members must lie inside the body, be named once and not overlap (so the
    /// decoded arrays never take more memory than the body itself).
    public static func decode(_ data: Data) throws -> [String: NPYArray] {
        let reader = ZipReader(data)
        var members = [(key: String, name: String, range: Range<Int>, dataStart: Int)]()
        var seen = Set<String>()
        for entry in try reader.centralDirectory() {
            let key = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
            guard seen.insert(key).inserted else { throw reader.bad("member '\(entry.name)' appears more than once") }
            members.append((key, entry.name, entry.range, entry.dataStart))
        }
        // Refuse overlapping members (one payload referenced many times) before decoding any.
        let sorted = members.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.range.lowerBound < a.range.upperBound {
            throw reader.bad("members '\(a.name)' and '\(b.name)' overlap")
        }
        var result = [String: NPYArray]()
        for m in members {
            let start = data.startIndex
            result[m.key] = try NPYArray(data: data[(start + m.dataStart)..<(start + m.range.upperBound)])
        }
        return result
    }
}

/// Checked reads of a ZIP's central directory: every offset and size is validated against the
/// body before use, and arithmetic on them cannot overflow (a bad archive throws `.badNPZ`).
struct ZipReader {
    /// One stored member: its name and where its local header and data lie (`range` covers the
    /// local header through the last data byte).
    struct Entry { var name: String; var range: Range<Int>; var dataStart: Int }

    let data: Data
    init(_ data: Data) { self.data = data }

    func bad(_ m: String) -> NPYError { .badNPZ(".npz: \(m)") }

    /// `a + b + …`, or a `.badNPZ` when the sum overflows.
    func sum(_ terms: Int...) throws -> Int {
        var total = 0
        for t in terms {
            let (s, o) = total.addingReportingOverflow(t)
            guard !o else { throw bad("an offset or size overflows") }
            total = s
        }
        return total
    }

    func byte(_ o: Int) -> Int { Int(data[data.startIndex + o]) }

    func uint(_ o: Int, _ width: Int) throws -> Int {
        guard o >= 0, o <= data.count - width else { throw bad("truncated") }
        var v: UInt64 = 0
        for i in (0..<width).reversed() { v = v << 8 | UInt64(byte(o + i)) }
        guard let n = Int(exactly: v) else { throw bad("a size or offset of \(v) is larger than the body") }
        return n
    }
    func u16(_ o: Int) throws -> Int { try uint(o, 2) }
    func u32(_ o: Int) throws -> Int { try uint(o, 4) }
    func u64(_ o: Int) throws -> Int { try uint(o, 8) }

    /// The stored members the central directory lists, each checked to lie inside the body.
    func centralDirectory() throws -> [Entry] {
        let count = data.count
        // End of central directory: search backwards for its signature.
        var eocd = -1
        var i = count - 22
        while i >= max(0, count - 22 - 65_535) {
            if byte(i) == 0x50, byte(i + 1) == 0x4b, byte(i + 2) == 0x05, byte(i + 3) == 0x06 { eocd = i; break }
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
        // A central directory entry takes at least 46 bytes: refuse counts the body cannot hold.
        guard entries <= count / 46 else { throw bad("declares \(entries) members, more than a \(count)-byte body can hold") }
        var result = [Entry]()
        var p = cdOffset
        for _ in 0..<entries {
            guard try u32(p) == 0x02014b50 else { throw bad("bad central directory entry") }
            let method = try u16(p + 10)
            var compressed = try u32(p + 20)
            var size = try u32(p + 24)
            let nameLength = try u16(p + 28), extraLength = try u16(p + 30), commentLength = try u16(p + 32)
            var localOffset = try u32(p + 42)
            let nameStart = try sum(p, 46)
            let extraStart = try sum(nameStart, nameLength)
            let extraEnd = try sum(extraStart, extraLength)
            guard extraEnd <= count else { throw bad("truncated") }
            let name = String(decoding: data[(data.startIndex + nameStart)..<(data.startIndex + extraStart)], as: UTF8.self)
            var e = extraStart
            while e + 4 <= extraEnd {
                let id = try u16(e), len = try u16(e + 2)
                let fieldEnd = e + 4 + len
                guard fieldEnd <= extraEnd else { throw bad("extra field of '\(name)' is truncated") }
                if id == 0x0001 {
                    var q = e + 4
                    func next() throws -> Int {
                        guard q + 8 <= fieldEnd else { throw bad("ZIP64 field of '\(name)' is truncated") }
                        defer { q += 8 }
                        return try u64(q)
                    }
                    if size == 0xFFFF_FFFF { size = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next() }
                }
                e = fieldEnd
            }
            guard method == 0 else {
                throw NPYError.unsupported(".npz member '\(name)' is compressed; use np.savez, not np.savez_compressed")
            }
            guard size <= count else { throw bad("member '\(name)' declares \(size) bytes, more than the body") }
            guard try u32(localOffset) == 0x04034b50 else { throw bad("bad local header for '\(name)'") }
            let localName = try u16(localOffset + 26), localExtra = try u16(localOffset + 28)
            let dataStart = try sum(localOffset, 30, localName, localExtra)
            let dataEnd = try sum(dataStart, size)
            guard dataEnd <= count else { throw bad("member '\(name)' is truncated") }
            result.append(Entry(name: name, range: localOffset..<dataEnd, dataStart: dataStart))
            p = try sum(extraEnd, commentLength)
        }
        return result
    }
}

/// CRC-32 (IEEE), as ZIP needs it: of whole data at once, or of bytes given in pieces.
///
/// ```swift
/// var c = CRC32(); c.update([1, 2]); c.update([3])
/// c.value == CRC32.checksum(Data([1, 2, 3]))   // true
/// ```
public struct CRC32: Sendable {
    /// Slice-by-8 tables: `tables[k][b]` is the CRC of byte `b` followed by `k` zero bytes, so eight
    /// input bytes fold in with eight lookups and no dependency between them (about 8× the
    /// byte-at-a-time loop; whole-space `.npz` downloads checksum every byte they send).
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1 }
            t[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let prev = t[(k - 1) * 256 + n]
                t[k * 256 + n] = t[Int(prev & 0xff)] ^ (prev >> 8)
            }
        }
        return t
    }()
    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// Folds `bytes` into the checksum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var c = state
        Self.tables.withUnsafeBufferPointer { t in
            var i = 0
            let n = bytes.count
            while i + 8 <= n {
                let lo = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)) ^ c
                let hi = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                c = t[7 * 256 + Int(lo & 0xff)] ^ t[6 * 256 + Int((lo >> 8) & 0xff)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xff)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xff)] ^ t[2 * 256 + Int((hi >> 8) & 0xff)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xff)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = t[Int((c ^ UInt32(bytes[i])) & 0xff)] ^ (c >> 8)
                i += 1
            }
        }
        state = c
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The checksum of everything given so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    public static func checksum(_ data: Data) -> UInt32 {
        var c = CRC32()
        data.withUnsafeBytes { c.update($0) }
        return c.value
    }
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
