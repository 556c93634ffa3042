import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element types of the safetensors format, with their sizes in bytes.
public enum SafeTensorDType: String, Sendable, CaseIterable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case f64 = "F64", i64 = "I64", u64 = "U64"

    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .f64, .i64, .u64: return 8
        }
    }

    /// True for the float types `floats(_:)` converts to Float32.
    public var isConvertibleToFloat: Bool { self == .f32 || self == .f16 || self == .bf16 || self == .f64 }
}

/// Where one tensor lives inside a safetensors file.
public struct SafeTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorDType
    public let shape: [Int]
    /// Byte range relative to the start of the data section.
    public let begin: Int
    public let end: Int
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A read-only memory mapping of a whole file (unmapped on deinit).
// Safe: the mapping is read-only (PROT_READ) and immutable from init to deinit.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeRawPointer?
    let count: Int

    /// `failure` makes the error for a file that cannot be stat'ed or mapped (default: invalidSafetensors).
    init(path: String, failure: ((String) -> TeacherError)? = nil) throws {
        let fail = failure ?? { TeacherError.invalidSafetensors(file: path, reason: $0) }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TeacherError.missingFile(path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw fail("cannot stat") }
        count = Int(st.st_size)
        if count == 0 { base = nil; return }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw fail("mmap failed (errno \(errno))") }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }
}

/// One memory-mapped `.safetensors` file with a validated header.
///
/// ```swift
/// let file = try SafeTensorFile(path: dir.appendingPathComponent("model.safetensors").path)
/// let w = try file.floats("embeddings.word_embeddings.weight")  // F32/F16/BF16/F64 → [Float]
/// ```
public final class SafeTensorFile: Sendable {
    public let path: String
    public let tensors: [String: SafeTensorInfo]
    public let metadata: [String: String]
    /// The whole file, mapped read-only (the weight cache makes Float views into it).
    let mapping: MappedFile
    /// Byte offset of the data section; tensor offsets are relative to it.
    let dataStart: Int

    /// Maps and validates the file: header length and JSON, dtypes, shapes × dtype sizes against
    /// offsets, offsets inside the file, no overlaps and no holes (the data section must be fully indexed).
    public init(path: String) throws {
        self.path = path
        let name = (path as NSString).lastPathComponent
        guard FileManager.default.fileExists(atPath: path) else { throw TeacherError.missingFile(path) }
        mapping = try MappedFile(path: path)
        let file = UnsafeRawBufferPointer(start: mapping.base, count: mapping.count)
        let layout = try SafeTensorHeader.layout(of: file, name: name)
        dataStart = layout.dataStart
        tensors = layout.tensors
        metadata = layout.metadata
    }

    /// The raw bytes of a tensor (valid while this file is alive).
    public func withRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let info = tensors[name] else { throw TeacherError.missingTensor(name) }
        let start = mapping.base.map { $0 + dataStart + info.begin }
        return try body(UnsafeRawBufferPointer(start: start, count: info.end - info.begin))
    }

    /// A float tensor converted to Float32 (F32, F16, BF16, F64), row-major.
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else { throw TeacherError.missingTensor(name) }
        guard info.dtype.isConvertibleToFloat else {
            throw TeacherError.unsupportedDType(tensor: name, dtype: info.dtype.rawValue)
        }
        let n = info.elementCount
        return try withRawBytes(name) { raw in
            [Float](unsafeUninitializedCapacity: n) { out, initialized in
                convertToFloat(raw, dtype: info.dtype, count: n, into: out.baseAddress!)
                initialized = n
            }
        }
    }
}

/// Converts little-endian F32/F16/BF16/F64 bytes (any alignment) to Float32.
func convertToFloat(_ raw: UnsafeRawBufferPointer, dtype: SafeTensorDType, count n: Int, into out: UnsafeMutablePointer<Float>) {
    guard n > 0, let src = raw.baseAddress else { return }
    switch dtype {
    case .f32:
        memcpy(out, src, n * 4)
    case .f64:
        for i in 0..<n { out[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
    case .bf16:
        for i in 0..<n {
            let h = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            out[i] = Float(bitPattern: UInt32(h) << 16)
        }
    case .f16:
        for i in 0..<n {
            out[i] = halfToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    default:
        break
    }
}

/// IEEE 754 binary16 → binary32 (exact, incl. subnormals, infinities and NaN).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = UInt32(h >> 10) & 0x1F
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        // Subnormal: mant · 2^-24.
        let v = Float(mant) * Float(bitPattern: 0x3380_0000)
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
}

/// All tensors of a model folder: one `model.safetensors`, or shards listed by
/// `model.safetensors.index.json` (each shard validated, every indexed tensor checked present).
///
/// ```swift
/// let weights = try SafeTensorWeights(directory: modelDir)
/// let bias = try weights.floats("encoder.layer.0.output.dense.bias")
/// ```
public struct SafeTensorWeights: Sendable {
    public let files: [SafeTensorFile]
    private let location: [String: Int]

    /// All tensor names.
    public var names: [String] { Array(location.keys) }

    public init(directory: URL) throws {
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        let fm = FileManager.default
        if fm.fileExists(atPath: single.path) {
            try self.init(files: [SafeTensorFile(path: single.path)])
        } else if fm.fileExists(atPath: index.path) {
            try self.init(indexFile: index)
        } else {
            throw TeacherError.missingFile("\(directory.path)/model.safetensors (or model.safetensors.index.json)")
        }
    }

    /// Loads a sharded checkpoint from its index file.
    public init(indexFile: URL) throws {
        let name = indexFile.lastPathComponent
        guard let data = try? Data(contentsOf: indexFile),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = json["weight_map"] as? [String: Any] else {
            throw TeacherError.invalidSafetensors(file: name, reason: "index has no weight_map object")
        }
        var shardNames: [String: String] = [:]
        for (tensor, v) in map {
            guard let s = v as? String, !s.contains("/"), !s.isEmpty else {
                throw TeacherError.invalidSafetensors(file: name, reason: "weight_map entry \(tensor) is not a file name")
            }
            shardNames[tensor] = s
        }
        let dir = indexFile.deletingLastPathComponent()
        var files: [SafeTensorFile] = []
        var fileIndex: [String: Int] = [:]
        for shard in Set(shardNames.values).sorted() {
            fileIndex[shard] = files.count
            files.append(try SafeTensorFile(path: dir.appendingPathComponent(shard).path))
        }
        for (tensor, shard) in shardNames where files[fileIndex[shard]!].tensors[tensor] == nil {
            throw TeacherError.invalidSafetensors(file: name, reason: "tensor \(tensor) is indexed in \(shard) but not stored there")
        }
        try self.init(files: files)
    }

    /// Combines files; a tensor name stored in two files is an error.
    public init(files: [SafeTensorFile]) throws {
        var location: [String: Int] = [:]
        for (i, f) in files.enumerated() {
            for name in f.tensors.keys {
                if location[name] != nil {
                    throw TeacherError.invalidSafetensors(file: (f.path as NSString).lastPathComponent,
                                                          reason: "tensor \(name) is stored in more than one shard")
                }
                location[name] = i
            }
        }
        self.files = files
        self.location = location
    }

    public func info(_ name: String) -> SafeTensorInfo? {
        location[name].flatMap { files[$0].tensors[name] }
    }

    /// A float tensor as Float32; throws if absent or not a float type.
    public func floats(_ name: String) throws -> [Float] {
        guard let i = location[name] else { throw TeacherError.missingTensor(name) }
        return try files[i].floats(name)
    }

    /// A float tensor checked against an expected shape.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let info = info(name) else { throw TeacherError.missingTensor(name) }
        guard info.shape == shape else { throw TeacherError.shapeMismatch(tensor: name, expected: shape, found: info.shape) }
        return try floats(name)
    }
}
