/// Where one tensor lives inside a GGUF file.
///
/// `dimensions` are in ggml order (`ne[0]`, the contiguous row, first); `shape` is the row-major
/// order numpy and `[Float]` results use (outermost first).
///
/// ```swift
/// let info = file.tensor("token_embd.weight")!   // dimensions [576, 49152], shape [49152, 576]
/// info.rowLength   // 576
/// info.rowCount    // 49152
/// ```
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let type: GGMLType
    /// ggml order: `dimensions[0]` is the row length.
    public let dimensions: [Int]
    /// Byte offset relative to the start of the data section (a multiple of the file's alignment).
    public let offset: Int
    /// Bytes the tensor takes: elements / block size × type size.
    public let byteCount: Int
    public let elementCount: Int

    /// Row-major shape (outermost first), as the dequantised `[Float]` is laid out.
    public var shape: [Int] { dimensions.reversed() }
    /// Elements of one row (`ne[0]`; 1 for a tensor without dimensions).
    public var rowLength: Int { dimensions.first ?? 1 }
    /// Rows: every dimension but the first, multiplied.
    public var rowCount: Int { rowLength == 0 ? 0 : elementCount / rowLength }
}

/// The validated header of a GGUF file: what `GGUFHeader.layout(of:)` reads.
struct GGUFLayout: Sendable {
    var version: UInt32
    var metadata: [String: GGUFValue]
    /// Keys in file order.
    var keys: [String]
    /// Tensors in file order.
    var tensors: [GGUFTensorInfo]
    var alignment: Int
    /// Absolute offset of the data section (the end of the tensor table, padded to `alignment`).
    var dataOffset: Int
}

/// Parses and validates a GGUF header (v2/v3, little-endian) from raw bytes, treating them as
/// hostile: every read is bounds-checked, every count and length is compared with the bytes left
/// before anything is allocated, all size arithmetic is overflow-checked, and tensor data must lie
/// inside the file, aligned and without overlaps.
///
/// ```swift
/// let layout = try bytes.withUnsafeBytes { try GGUFHeader.layout(of: $0) }
/// layout.tensors.first?.name
/// ```
enum GGUFHeader {
    /// "GGUF" read as a little-endian UInt32.
    static let magic: UInt32 = 0x4655_4747
    static let defaultAlignment = 32
    /// Arrays of arrays deeper than this are refused (a hostile file must not exhaust the stack).
    static let maxNesting = 8
    static let maxDimensions = 4

    static func layout(of file: UnsafeRawBufferPointer) throws(GGUFProblem) -> GGUFLayout {
        var c = GGUFCursor(bytes: file)
        let magic = try c.u32("magic")
        guard magic == Self.magic else { throw .badMagic(magic) }
        let version = try c.u32("version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        let tensorCount = try c.u64("tensor count")
        let kvCount = try c.u64("metadata count")
        // Smallest metadata entry: key length (8) + value type (4) + one byte.
        try c.ensure(count: kvCount, each: 13, "metadata table of \(kvCount) entries")
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        metadata.reserveCapacity(Int(kvCount))
        keys.reserveCapacity(Int(kvCount))
        for _ in 0..<kvCount {
            let key = try c.string("metadata key")
            let rawType = try c.u32("value type of \(key)")
            guard let type = GGUFValueType(rawValue: rawType) else { throw .unknownValueType(key: key, type: rawType) }
            let value = try c.value(type, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else { throw .duplicateKey(key) }
            keys.append(key)
        }
        var alignment = defaultAlignment
        if let a = metadata["general.alignment"] {
            guard case .uint32(let v) = a else {
                throw .wrongValueType(key: "general.alignment", expected: "UINT32", found: a.type.description)
            }
            guard v != 0, v & (v - 1) == 0 else { throw .badAlignment(UInt64(v)) }
            alignment = Int(v)
        }
        // Smallest tensor entry: name length (8) + dimension count (4) + type (4) + offset (8).
        try c.ensure(count: tensorCount, each: 24, "tensor table of \(tensorCount) entries")
        var tensors: [GGUFTensorInfo] = []
        var rawOffsets: [UInt64] = []
        tensors.reserveCapacity(Int(tensorCount))
        var names = Set<String>()
        for _ in 0..<tensorCount {
            let (info, raw) = try c.tensorInfo(alignment: alignment)
            guard names.insert(info.name).inserted else { throw .duplicateTensor(info.name) }
            tensors.append(info)
            rawOffsets.append(raw)
        }
        // The data section starts at the end of the table, padded to the alignment.
        let tableEnd = c.at
        let (padded, overflow) = tableEnd.addingReportingOverflow(alignment - 1)
        let dataOffset = overflow ? Int.max : padded & ~(alignment - 1)
        let hasData = tensors.contains { $0.byteCount > 0 }
        if hasData, dataOffset > file.count {
            throw .truncated(at: tableEnd, what: "padding before the data section",
                             needed: UInt64(dataOffset - tableEnd), available: file.count - tableEnd)
        }
        let dataSize = max(0, file.count - dataOffset)
        // Every offset lies in the data section, an empty tensor's too (its start is still an address:
        // at 2^63 - 1 the fuzzer's `dataOffset + offset` overflowed).
        for (info, raw) in zip(tensors, rawOffsets) {
            guard raw <= UInt64(dataSize) else {
                throw .outsideFile(tensor: info.name, offset: raw, byteCount: info.byteCount, dataSize: dataSize)
            }
            guard info.byteCount <= dataSize - info.offset else {
                throw .truncated(at: dataOffset + info.offset, what: "data of tensor \(info.name)",
                                 needed: UInt64(info.byteCount), available: dataSize - info.offset)
            }
        }
        // No two tensors share bytes (empty tensors take none).
        let byStart = tensors.filter { $0.byteCount > 0 }.sorted { ($0.offset, $0.name) < ($1.offset, $1.name) }
        for (previous, next) in zip(byStart, byStart.dropFirst()) where previous.offset + previous.byteCount > next.offset {
            throw .overlapping(tensor: next.name, other: previous.name)
        }
        return GGUFLayout(version: version, metadata: metadata, keys: keys, tensors: tensors,
                          alignment: alignment, dataOffset: hasData ? dataOffset : min(dataOffset, file.count))
    }
}

/// A bounds-checked little-endian reader over the file's bytes.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    var at = 0
    var left: Int { bytes.count - at }

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Throws `truncated` unless `n` more bytes are there.
    func need(_ n: Int, _ what: @autoclosure () -> String) throws(GGUFProblem) {
        guard n <= left else { throw .truncated(at: at, what: what(), needed: UInt64(n), available: left) }
    }

    /// Throws `truncated` unless `count` items of at least `each` bytes can fit in what is left.
    func ensure(count: UInt64, each: Int, _ what: @autoclosure () -> String) throws(GGUFProblem) {
        guard count <= UInt64(left / each) else {
            let (needed, overflow) = count.multipliedReportingOverflow(by: UInt64(each))
            throw .truncated(at: at, what: what(), needed: overflow ? UInt64.max : needed, available: left)
        }
    }

    private mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFProblem) -> T {
        try need(MemoryLayout<T>.size, what())
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
        at += MemoryLayout<T>.size
        return v
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(GGUFProblem) -> UInt8 { try load(UInt8.self, what()) }
    mutating func u16(_ what: @autoclosure () -> String) throws(GGUFProblem) -> UInt16 { try load(UInt16.self, what()) }
    mutating func u32(_ what: @autoclosure () -> String) throws(GGUFProblem) -> UInt32 { try load(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws(GGUFProblem) -> UInt64 { try load(UInt64.self, what()) }

    /// A UTF-8 string: 8-byte length, then the bytes (no terminator).
    mutating func string(_ what: @autoclosure () -> String) throws(GGUFProblem) -> String {
        let length = try u64("length of \(what())")
        guard length <= UInt64(left) else { throw .truncated(at: at, what: what(), needed: length, available: left) }
        let n = Int(length)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + n)])
        guard let s = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8(at: at) }
        at += n
        return s
    }

    /// One metadata value of `type` (arrays recursively, at most `GGUFHeader.maxNesting` deep).
    mutating func value(_ type: GGUFValueType, key: String, depth: Int) throws(GGUFProblem) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try u8(key))
        case .int8: return .int8(Int8(bitPattern: try u8(key)))
        case .uint16: return .uint16(try u16(key))
        case .int16: return .int16(Int16(bitPattern: try u16(key)))
        case .uint32: return .uint32(try u32(key))
        case .int32: return .int32(Int32(bitPattern: try u32(key)))
        case .uint64: return .uint64(try u64(key))
        case .int64: return .int64(Int64(bitPattern: try u64(key)))
        case .float32: return .float32(Float(bitPattern: try u32(key)))
        case .float64: return .float64(Double(bitPattern: try u64(key)))
        case .bool: return .bool(try u8(key) != 0)
        case .string: return .string(try string("string \(key)"))
        case .array:
            guard depth < GGUFHeader.maxNesting else { throw .nestingTooDeep(key: key) }
            let rawType = try u32("element type of \(key)")
            guard let elementType = GGUFValueType(rawValue: rawType) else { throw .unknownValueType(key: key, type: rawType) }
            let count = try u64("length of \(key)")
            try ensure(count: count, each: elementType.minimumSize, "array \(key) of \(count) \(elementType)")
            var values: [GGUFValue] = []
            values.reserveCapacity(Int(count))
            for _ in 0..<count { values.append(try value(elementType, key: key, depth: depth + 1)) }
            return .array(elementType, values)
        }
    }

    /// One entry of the tensor table, validated against the type's block layout; also the raw offset.
    mutating func tensorInfo(alignment: Int) throws(GGUFProblem) -> (GGUFTensorInfo, UInt64) {
        let name = try string("tensor name")
        let n = try u32("dimension count of \(name)")
        guard n <= GGUFHeader.maxDimensions else { throw .tooManyDimensions(tensor: name, count: n) }
        var raw: [UInt64] = []
        for _ in 0..<n { raw.append(try u64("dimensions of \(name)")) }
        let rawType = try u32("type of \(name)")
        guard let type = GGMLType(rawValue: rawType) else { throw .unknownTensorType(tensor: name, type: rawType) }
        let offset = try u64("offset of \(name)")
        var dims: [Int] = []
        var elements = 1
        for d in raw {
            guard let i = Int(exactly: d) else { throw .badDimensions(tensor: name, dimensions: raw) }
            let (product, overflow) = elements.multipliedReportingOverflow(by: i)
            guard !overflow else { throw .badDimensions(tensor: name, dimensions: raw) }
            dims.append(i)
            elements = product
        }
        let rowLength = dims.first ?? 1
        guard rowLength % type.blockSize == 0 else {
            throw .sizeMismatch(tensor: name, rowLength: rowLength, blockSize: type.blockSize)
        }
        let (bytes, overflow) = (elements / type.blockSize).multipliedReportingOverflow(by: type.typeSize)
        guard !overflow else { throw .badDimensions(tensor: name, dimensions: raw) }
        guard offset % UInt64(alignment) == 0 else { throw .misaligned(tensor: name, offset: offset, alignment: alignment) }
        // Offsets beyond Int are caught against the data size by the caller; clamp for the stored value.
        let info = GGUFTensorInfo(name: name, type: type, dimensions: dims, offset: Int(clamping: offset),
                                  byteCount: bytes, elementCount: elements)
        return (info, offset)
    }
}
