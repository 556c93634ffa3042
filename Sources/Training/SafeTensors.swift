import Core
import Foundation

/// A minimal safetensors (F32) writer and reader: 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets}, "__metadata__": {…}}`, then the raw little-endian data.
///
/// ```swift
/// try SafeTensors.write([("output_proj.bias", [384], bias)], metadata: ["step": "10"], to: url)
/// let t = try SafeTensors.read(url)        // t.tensors["output_proj.bias"]!.values
/// ```
public enum SafeTensors {
    public struct Tensor: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Float]
    }
    public struct File: Sendable {
        public var tensors: [String: Tensor]
        public var metadata: [String: String]
    }

    /// Writes atomically (`AtomicFile`: temporary file, fsync, rename, directory fsync).
    public static func write(_ tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String] = [:],
                             to url: URL) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            guard t.values.count == t.shape.reduce(1, *) else {
                throw TrainingError.writeFailed("safetensors: \(t.name) has \(t.values.count) values for shape \(t.shape)")
            }
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.values.count]]
            offset += 4 * t.values.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        var len = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &len) { data.append(contentsOf: $0) }
        data.append(json)
        for t in tensors {
            t.values.withUnsafeBufferPointer { p in
                if p.count > 0 { data.append(UnsafeBufferPointer(start: UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: UInt8.self), count: 4 * p.count)) }
            }
        }
        try writeAtomically(data, to: url)
    }

    public static func read(_ url: URL) throws -> File {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainingError.checkpointMissing("safetensors: cannot read \(url.path): \(error.localizedDescription)")
        }
        func bad(_ m: String) -> TrainingError { .invalidCheckpoint("safetensors \(url.lastPathComponent): \(m)") }
        guard data.count >= 8 else { throw bad("file shorter than its header length") }
        let len = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard len <= UInt64(data.count - 8) else { throw bad("header length \(len) exceeds the file") }
        let headerEnd = 8 + Int(len)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw bad("header is not a JSON object")
        }
        let body = data.subdata(in: headerEnd..<data.count)
        var out = File(tensors: [:], metadata: [:])
        for (name, v) in header {
            if name == "__metadata__" {
                out.metadata = (v as? [String: String]) ?? [:]
                continue
            }
            guard let d = v as? [String: Any], let dtype = d["dtype"] as? String,
                  let shape = d["shape"] as? [Int], let offs = d["data_offsets"] as? [Int], offs.count == 2 else {
                throw bad("tensor \(name) has a malformed entry")
            }
            guard dtype == "F32" else { throw bad("tensor \(name) is \(dtype); only F32 is supported") }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 >= 0 }), offs[0] >= 0, offs[1] == offs[0] + 4 * count, offs[1] <= body.count else {
                throw bad("tensor \(name) has data offsets \(offs) inconsistent with shape \(shape)")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                body.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offs[0]..<offs[1]]))
                }
            }
            out.tensors[name] = Tensor(shape: shape, values: values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) })
        }
        return out
    }
}

/// Writes a checkpoint file with `AtomicFile` (temporary file, fsync, rename, directory fsync);
/// a failure surfaces as an internal error naming the path.
func writeAtomically(_ data: Data, to url: URL) throws {
    do {
        try AtomicFile.write(data, to: url)
    } catch let e as AtomicFile.Failure {
        throw TrainingError.writeFailed(e.description)
    }
}
