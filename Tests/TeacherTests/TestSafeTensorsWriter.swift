import Foundation
@testable import Teacher

/// Writes safetensors files for tests (hostile folders, the SmolLM2 conversion): tensors in the given
/// order, contiguous, the header padded to 8 bytes.
///
/// ```swift
/// try TestSafeTensorsWriter.write([.init(name: "w", floats: [1, 2], shape: [2])], to: url)
/// ```
enum TestSafeTensorsWriter {
    struct Tensor {
        var name: String
        var dtype: String
        var shape: [Int]
        var bytes: Data

        init(name: String, dtype: String, shape: [Int], bytes: Data) {
            (self.name, self.dtype, self.shape, self.bytes) = (name, dtype, shape, bytes)
        }

        /// Float32 little-endian.
        init(name: String, floats: [Float], shape: [Int]) {
            self.init(name: name, dtype: "F32", shape: shape, bytes: floats.withUnsafeBytes { Data($0) })
        }
    }

    static func write(_ tensors: [Tensor], to url: URL) throws {
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var offset = 0
        for t in tensors {
            header[t.name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.bytes.count]] as [String: Any]
            offset += t.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var length = UInt64(json.count).littleEndian
        try handle.write(contentsOf: Data(bytes: &length, count: 8))
        try handle.write(contentsOf: json)
        for t in tensors { try handle.write(contentsOf: t.bytes) }
    }

    /// Every tensor of a safetensors file, as stored (for rewriting a fixture with a change).
    static func read(_ url: URL) throws -> [Tensor] {
        let file = try SafeTensorFile(path: url.path)
        return try file.tensors.values.sorted { $0.begin < $1.begin }.map { info in
            Tensor(name: info.name, dtype: info.dtype.rawValue, shape: info.shape, bytes: try file.withRawBytes(info.name) { Data($0) })
        }
    }
}
