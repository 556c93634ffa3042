import Foundation
import Testing
import TestSupport
@testable import Teacher

/// Hostile GGUF files: every one throws the right `GGUFProblem` (never traps, never allocates what a
/// count claims before checking the bytes are there). Files are built byte by byte by `GGUFBytes`,
/// or cut from the tiny fixture at every length.
@Suite struct GGUFHostileTests {
    static func problem(_ bytes: [UInt8]) -> GGUFProblem? {
        do { _ = try bytes.withUnsafeBytes { try GGUFHeader.layout(of: $0) }; return nil }
        catch let problem as GGUFProblem { return problem } catch { return .unreadable("\(error)") }
    }

    @Test func everyTruncationOfTheFixtureIsTruncated() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: GGUFTests.tinyPath)))
        let full = try GGUFFile(path: GGUFTests.tinyPath)
        let lastEnd = full.tensors.map { full.dataOffset + $0.offset + $0.byteCount }.max() ?? 0
        for n in 0..<lastEnd {
            let p = Self.problem(Array(bytes[..<n]))
            if case .truncated(let at, _, let needed, let available)? = p {
                #expect(at <= n && UInt64(available) < needed, "cut at \(n): \(p!)")
            } else if case .outsideFile(_, let offset, _, let dataSize)? = p, n > full.dataOffset {
                // Cut in the padding between two tensors: the next one starts past the (new) end.
                #expect(offset > UInt64(dataSize), "cut at \(n)")
            } else {
                Issue.record("cut at \(n): \(String(describing: p))")
            }
        }
        // Past the last tensor only padding is missing: still a valid file.
        for n in lastEnd...bytes.count { #expect(Self.problem(Array(bytes[..<n])) == nil, "cut at \(n)") }
        // Named boundaries: inside the fixed header, the table's padding, the data section.
        #expect(Self.problem([]) == .truncated(at: 0, what: "magic", needed: 4, available: 0))
        #expect(Self.problem(Array(bytes[..<4])) == .truncated(at: 4, what: "version", needed: 4, available: 0))
        #expect(Self.problem(Array(bytes[..<8])) == .truncated(at: 8, what: "tensor count", needed: 8, available: 0))
        #expect(Self.problem(Array(bytes[..<16])) == .truncated(at: 16, what: "metadata count", needed: 8, available: 0))
        if case .truncated(_, let what, _, _)? = Self.problem(Array(bytes[..<24])) {
            #expect(what == "metadata table of \(full.metadataKeys.count) entries")
        } else { Issue.record("cut at 24") }
        #expect(Self.problem(Array(bytes[..<full.dataOffset])) == .truncated(at: full.dataOffset, what: "data of tensor t.f32",
                                                                              needed: 768, available: 0))
        let tableEnd = full.dataOffset - 1
        if case .truncated(_, let what, _, _)? = Self.problem(Array(bytes[..<tableEnd])) {
            #expect(what == "padding before the data section" || what.hasPrefix("offset of"), "\(what)")
        }
    }

    @Test func magicAndVersion() {
        #expect(Self.problem(GGUFBytes(magic: Array("GGML".utf8)).bytes) == .badMagic(0x4C4D_4747))
        for v: UInt32 in [0, 1, 4, 0x0300_0000, .max] {
            #expect(Self.problem(GGUFBytes(version: v).bytes) == .unsupportedVersion(v))
        }
        #expect(Self.problem(GGUFBytes(version: 2).bytes) == nil)
        #expect(Self.problem(GGUFBytes().bytes) == nil)
    }

    @Test func hugeCountsAndLengthsAreTruncatedBeforeAllocating() {
        var g = GGUFBytes()
        g.kvCount = UInt64.max
        #expect(Self.problem(g.bytes) == .truncated(at: 24, what: "metadata table of \(UInt64.max) entries", needed: .max, available: 0))
        g = GGUFBytes()
        g.tensorCount = 1 << 62
        #expect(Self.problem(g.bytes) == .truncated(at: 24, what: "tensor table of \(1 << 62) entries", needed: .max, available: 0))
        // A key whose length runs past the end.
        g = GGUFBytes()
        g.kv(rawKey: .max, rest: [UInt8](repeating: 1, count: 16))
        #expect(Self.problem(g.bytes) == .truncated(at: 32, what: "metadata key", needed: .max, available: 16))
        // 12 bytes cannot hold the smallest entry (13): refused before the key is read.
        g = GGUFBytes()
        g.kv(rawKey: 1, rest: [UInt8](repeating: 1, count: 4))
        #expect(Self.problem(g.bytes) == .truncated(at: 24, what: "metadata table of 1 entries", needed: 13, available: 12))
        // Arrays claiming 2^62 elements of each element type.
        for (t, size) in [(0, 1), (10, 8), (8, 8), (9, 12)] as [(UInt32, Int)] {
            g = GGUFBytes()
            g.kv("a", type: 9, value: GGUFBytes.le(t) + GGUFBytes.le(UInt64(1) << 62) + [0, 0, 0, 0])
            let type = GGUFValueType(rawValue: t)!
            #expect(Self.problem(g.bytes) == .truncated(at: 49, what: "array a of \(UInt64(1) << 62) \(type)",
                                                        needed: size == 1 ? 1 << 62 : .max, available: 4))
        }
        // A string value longer than the file.
        g = GGUFBytes()
        g.kv("s", type: 8, value: GGUFBytes.le(UInt64(1) << 40) + Array("abc".utf8))
        #expect(Self.problem(g.bytes) == .truncated(at: 45, what: "string s", needed: 1 << 40, available: 3))
    }

    @Test func badValueTypesStringsAndKeys() {
        var g = GGUFBytes()
        g.kv("k", type: 13, value: [0])
        #expect(Self.problem(g.bytes) == .unknownValueType(key: "k", type: 13))
        g = GGUFBytes()
        g.kv("k", type: 9, value: GGUFBytes.le(UInt32(99)) + GGUFBytes.le(UInt64(0)))
        #expect(Self.problem(g.bytes) == .unknownValueType(key: "k", type: 99))
        g = GGUFBytes()
        g.kv(rawKey: 2, rest: [0xC3, 0x28] + GGUFBytes.le(UInt32(0)) + [1])  // "\xC3(": not UTF-8
        #expect(Self.problem(g.bytes) == .invalidUTF8(at: 32))
        g = GGUFBytes()
        g.kv("k", type: 0, value: [1])
        g.kv("k", type: 0, value: [2])
        #expect(Self.problem(g.bytes) == .duplicateKey("k"))
        // Arrays nested deeper than 8 (an array of arrays … 9 levels), though the file holds them.
        var nested: [UInt8] = GGUFBytes.le(UInt32(0)) + GGUFBytes.le(UInt64(0))
        for _ in 0..<8 { nested = GGUFBytes.le(UInt32(9)) + GGUFBytes.le(UInt64(1)) + nested }
        g = GGUFBytes()
        g.kv("deep", type: 9, value: nested)
        #expect(Self.problem(g.bytes) == .nestingTooDeep(key: "deep"))
        // 8 levels are fine: [[[…[]…]]].
        nested = GGUFBytes.le(UInt32(0)) + GGUFBytes.le(UInt64(0))
        for _ in 0..<7 { nested = GGUFBytes.le(UInt32(9)) + GGUFBytes.le(UInt64(1)) + nested }
        g = GGUFBytes()
        g.kv("deep", type: 9, value: nested)
        #expect(Self.problem(g.bytes) == nil)
    }

    @Test func alignment() {
        var g = GGUFBytes()
        g.kv("general.alignment", type: 10, value: GGUFBytes.le(UInt64(32)))
        #expect(Self.problem(g.bytes) == .wrongValueType(key: "general.alignment", expected: "UINT32", found: "UINT64"))
        for a: UInt32 in [0, 3, 48, 0x8000_0001] {
            g = GGUFBytes()
            g.kv("general.alignment", type: 4, value: GGUFBytes.le(a))
            #expect(Self.problem(g.bytes) == .badAlignment(UInt64(a)))
        }
        // A custom alignment moves the data section and is what offsets must respect.
        g = GGUFBytes(alignment: 256)
        g.tensor("t", dims: [32], type: 0, offset: 0)
        g.data = [UInt8](repeating: 0, count: 128)
        let layout = try? g.bytes.withUnsafeBytes { try GGUFHeader.layout(of: $0) }
        #expect(layout?.alignment == 256 && layout?.dataOffset == 256)
        g.tensors = []
        g.tensor("t", dims: [8], type: 0, offset: 32)
        #expect(Self.problem(g.bytes) == .misaligned(tensor: "t", offset: 32, alignment: 256))
    }

    @Test func tensorTable() {
        func single(dims: [UInt64], type: UInt32 = 0, offset: UInt64 = 0, data: Int = 64) -> GGUFProblem? {
            var g = GGUFBytes()
            g.tensor("w", dims: dims, type: type, offset: offset)
            g.data = [UInt8](repeating: 0, count: data)
            return Self.problem(g.bytes)
        }
        #expect(single(dims: [16]) == nil)
        #expect(single(dims: [1, 1, 1, 1, 1]) == .tooManyDimensions(tensor: "w", count: 5))
        #expect(single(dims: [1 << 63]) == .badDimensions(tensor: "w", dimensions: [1 << 63]))
        #expect(single(dims: [1 << 32, 1 << 32]) == .badDimensions(tensor: "w", dimensions: [1 << 32, 1 << 32]))
        #expect(single(dims: [1 << 62]) == .badDimensions(tensor: "w", dimensions: [1 << 62]))  // 2^62 F32: bytes overflow
        #expect(single(dims: [1 << 40]) == .truncated(at: 64, what: "data of tensor w", needed: 1 << 42, available: 64))
        for t: UInt32 in [4, 5, 31, 36, 99, .max] {
            #expect(single(dims: [32], type: t) == .unknownTensorType(tensor: "w", type: t))
        }
        #expect(single(dims: [33], type: 2) == .sizeMismatch(tensor: "w", rowLength: 33, blockSize: 32))
        #expect(single(dims: [100, 2], type: 12) == .sizeMismatch(tensor: "w", rowLength: 100, blockSize: 256))
        #expect(single(dims: [4], offset: 16) == .misaligned(tensor: "w", offset: 16, alignment: 32))
        #expect(single(dims: [4], offset: 1 << 63) == .outsideFile(tensor: "w", offset: 1 << 63, byteCount: 16, dataSize: 64))
        #expect(single(dims: [4], offset: 96) == .outsideFile(tensor: "w", offset: 96, byteCount: 16, dataSize: 64))
        #expect(single(dims: [16], offset: 32) == .truncated(at: 64 + 32, what: "data of tensor w", needed: 64, available: 32))
        // Empty tensors take no bytes, but their offset is still an address: inside the data section
        // (at 2^63 - 32 the fuzzer overflowed `dataOffset + offset`).
        #expect(single(dims: [0, 5], offset: 32, data: 64) == nil)
        #expect(single(dims: [0, 5], offset: 64, data: 64) == nil)
        #expect(single(dims: [0, 5], offset: 1 << 40, data: 0) == .outsideFile(tensor: "w", offset: 1 << 40, byteCount: 0, dataSize: 0))
        #expect(single(dims: [0, 5], offset: (1 << 63) - 32, data: 64)
            == .outsideFile(tensor: "w", offset: (1 << 63) - 32, byteCount: 0, dataSize: 64))

        var g = GGUFBytes()
        g.tensor("a", dims: [16], type: 0, offset: 0)
        g.tensor("b", dims: [8], type: 0, offset: 32)
        g.data = [UInt8](repeating: 0, count: 128)
        #expect(Self.problem(g.bytes) == .overlapping(tensor: "b", other: "a"))
        g.tensors = []
        g.tensor("a", dims: [8], type: 0, offset: 0)
        g.tensor("a", dims: [8], type: 0, offset: 32)
        #expect(Self.problem(g.bytes) == .duplicateTensor("a"))
        g.tensors = []
        g.tensor("b", dims: [8], type: 0, offset: 32)
        g.tensor("a", dims: [8], type: 0, offset: 0)  // out of order but disjoint: fine
        #expect(Self.problem(g.bytes) == nil)
    }

    @Test func aHostileFileOnDiskIsATeacherErrorNamingTheFile() throws {
        let dir = try makeTemporaryDirectory("gguf-hostile")
        defer { removeTemporaryDirectory(dir) }
        var g = GGUFBytes()
        g.tensor("w", dims: [4], type: 77, offset: 0)
        let url = dir.appendingPathComponent("bad.gguf")
        try Data(g.bytes).write(to: url)
        #expect(throws: TeacherError.invalidGGUF(file: "bad.gguf", problem: .unknownTensorType(tensor: "w", type: 77))) {
            try GGUFFile(path: url.path)
        }
        try Data().write(to: url)
        #expect(throws: TeacherError.invalidGGUF(file: "bad.gguf", problem: .truncated(at: 0, what: "magic", needed: 4, available: 0))) {
            try GGUFFile(path: url.path)
        }
        #expect(TeacherError.invalidGGUF(file: "bad.gguf", problem: .badAlignment(3)).description
                == "invalid GGUF file bad.gguf: general.alignment 3 is not a power of two")
    }
}

/// Builds GGUF bytes field by field (little-endian), for files no writer would produce.
struct GGUFBytes {
    var magic = Array("GGUF".utf8)
    var version: UInt32 = 3
    var tensorCount: UInt64?
    var kvCount: UInt64?
    var kvs: [[UInt8]] = []
    var tensors: [[UInt8]] = []
    var alignment = 32
    var data: [UInt8] = []

    init(magic: [UInt8] = Array("GGUF".utf8), version: UInt32 = 3, alignment: Int = 32) {
        self.magic = magic
        self.version = version
        self.alignment = alignment
        if alignment != 32 { kv("general.alignment", type: 4, value: Self.le(UInt32(alignment))) }
    }

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func string(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

    mutating func kv(_ key: String, type: UInt32, value: [UInt8]) { kvs.append(Self.string(key) + Self.le(type) + value) }
    /// A key given by a raw length: its bytes, the type and the value are whatever `rest` holds.
    mutating func kv(rawKey length: UInt64, rest: [UInt8]) { kvs.append(Self.le(length) + rest) }

    mutating func tensor(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        tensors.append(Self.string(name) + Self.le(UInt32(dims.count)) + dims.flatMap { Self.le($0) } + Self.le(type) + Self.le(offset))
    }

    var bytes: [UInt8] {
        var b = magic + Self.le(version) + Self.le(tensorCount ?? UInt64(tensors.count)) + Self.le(kvCount ?? UInt64(kvs.count))
        for kv in kvs { b += kv }
        for t in tensors { b += t }
        if !tensors.isEmpty {
            while b.count % alignment != 0 { b.append(0) }
            b += data
        }
        return b
    }
}
