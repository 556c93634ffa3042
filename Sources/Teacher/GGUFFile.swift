import Foundation

/// One memory-mapped GGUF file (v2 or v3) with a validated header: metadata of every value type,
/// the tensor table, and Float32 access to tensors of the dequantizable types (see `GGMLDequantize`).
/// Opening it reads only the header; tensor bytes stay in the mapping until converted.
///
/// ```swift
/// let file = try GGUFFile(path: ".cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
/// let layers = try file.requireInt("llama.block_count")                  // 30
/// let tokens = try file.requireStrings("tokenizer.ggml.tokens")          // 49,152 strings
/// let embed = try file.floats("token_embd.weight", shape: [49152, 576])  // dequantised, row-major
/// ```
public final class GGUFFile: Sendable {
    public let path: String
    /// 2 or 3.
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment`, else 32.
    public let alignment: Int
    /// Absolute byte offset of the data section; tensor offsets are relative to it.
    public let dataOffset: Int
    /// The file's size in bytes.
    public var fileSize: Int { mapping.count }
    private let index: [String: Int]
    private let mapping: MappedFile

    /// Maps and validates the file; any malformed content is `TeacherError.invalidGGUF`.
    public init(path: String) throws {
        self.path = path
        let name = (path as NSString).lastPathComponent
        guard FileManager.default.fileExists(atPath: path) else { throw TeacherError.missingFile(path) }
        mapping = try MappedFile(path: path) { TeacherError.invalidGGUF(file: name, problem: .unreadable($0)) }
        let layout: GGUFLayout
        do {
            layout = try GGUFHeader.layout(of: UnsafeRawBufferPointer(start: mapping.base, count: mapping.count))
        } catch {
            throw TeacherError.invalidGGUF(file: name, problem: error)
        }
        version = layout.version
        metadata = layout.metadata
        metadataKeys = layout.keys
        tensors = layout.tensors
        alignment = layout.alignment
        dataOffset = layout.dataOffset
        index = Dictionary(uniqueKeysWithValues: layout.tensors.enumerated().map { ($1.name, $0) })
    }

    /// `general.architecture` (`llama`, `qwen2`, …).
    public var architecture: String? { metadata["general.architecture"]?.string }

    public func tensor(_ name: String) -> GGUFTensorInfo? { index[name].map { tensors[$0] } }

    /// The raw bytes of a tensor (valid while this file is alive).
    public func withRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let info = tensor(name) else { throw TeacherError.missingTensor(name) }
        return try body(bytes(of: info, rows: 0..<info.rowCount))
    }

    /// A tensor dequantised to Float32, row-major (`info.shape`).
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensor(name) else { throw TeacherError.missingTensor(name) }
        return try floats(name, rows: 0..<info.rowCount)
    }

    /// A tensor dequantised to Float32, checked against an expected row-major shape.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let info = tensor(name) else { throw TeacherError.missingTensor(name) }
        guard info.shape == shape else { throw TeacherError.shapeMismatch(tensor: name, expected: shape, found: info.shape) }
        return try floats(name)
    }

    /// Rows `rows` of a tensor (rows are `rowLength` elements: the last row-major dimension),
    /// dequantised — e.g. a few token embeddings without converting the whole table.
    public func floats(_ name: String, rows: Range<Int>) throws -> [Float] {
        guard let info = tensor(name) else { throw TeacherError.missingTensor(name) }
        guard rows.lowerBound >= 0, rows.upperBound <= info.rowCount else {
            throw TeacherError.invalidArgument("rows \(rows) of \(name), which has \(info.rowCount)")
        }
        return try GGMLDequantize.floats(bytes(of: info, rows: rows), type: info.type,
                                         count: rows.count * info.rowLength, name: name)
    }

    /// The bytes of whole rows (validated at open: inside the file, a whole number of blocks per row).
    private func bytes(of info: GGUFTensorInfo, rows: Range<Int>) -> UnsafeRawBufferPointer {
        let rowBytes = info.rowLength / info.type.blockSize * info.type.typeSize
        let start = mapping.base.map { $0 + dataOffset + info.offset + rows.lowerBound * rowBytes }
        return UnsafeRawBufferPointer(start: start, count: rows.count * rowBytes)
    }

    // MARK: Metadata a model needs

    /// An integer metadata value of any integer type; `missingMetadata` when absent or not an integer.
    public func requireInt(_ key: String) throws -> Int {
        guard let v = metadata[key]?.int else { throw TeacherError.missingMetadata(key: key, expected: "an integer") }
        return v
    }

    /// A float32/float64 metadata value (integers accepted).
    public func requireDouble(_ key: String) throws -> Double {
        guard let v = metadata[key]?.double else { throw TeacherError.missingMetadata(key: key, expected: "a number") }
        return v
    }

    public func requireString(_ key: String) throws -> String {
        guard let v = metadata[key]?.string else { throw TeacherError.missingMetadata(key: key, expected: "a string") }
        return v
    }

    public func requireStrings(_ key: String) throws -> [String] {
        guard let v = metadata[key]?.strings else { throw TeacherError.missingMetadata(key: key, expected: "an array of strings") }
        return v
    }
}
