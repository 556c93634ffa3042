import Foundation
import Testing
import TestSupport
@testable import Teacher

/// Builds safetensors bytes: tensors in order, with optional overrides to corrupt the header.
struct SafeTensorsBuilder {
    var entries: [(name: String, dtype: String, shape: [Int], bytes: [UInt8])] = []
    var offsetOverride: [String: [Int]] = [:]

    mutating func add(_ name: String, _ dtype: String, _ shape: [Int], _ bytes: [UInt8]) {
        entries.append((name, dtype, shape, bytes))
    }

    func data(headerLengthDelta: Int = 0, rawHeader: String? = nil, trailing: [UInt8] = []) -> Data {
        var header = "{\"__metadata__\":{\"format\":\"pt\"}"
        var blob: [UInt8] = []
        for e in entries {
            let off = offsetOverride[e.name] ?? [blob.count, blob.count + e.bytes.count]
            header += ",\"\(e.name)\":{\"dtype\":\"\(e.dtype)\",\"shape\":\(e.shape),\"data_offsets\":\(off)}"
            blob += e.bytes
        }
        header += "}"
        if let rawHeader { header = rawHeader }
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(h.count + headerLengthDelta).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: h)
        out.append(contentsOf: blob + trailing)
        return out
    }
}

func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

@Suite(.ownThreads) struct SafeTensorsTests {
    func write(_ data: Data, _ dir: URL, _ name: String = "model.safetensors") throws -> String {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    @Test func readsF32F16BF16F64() throws {
        let dir = try makeTemporaryDirectory("teacher"); defer { removeTemporaryDirectory(dir) }
        let values: [Float] = [1.5, -2.25, 0.0001, 65504, 6e-8, -0.0, 3.14159, 1e-3]
        var b = SafeTensorsBuilder()
        b.add("f32", "F32", [2, 4], bytes(values.map { $0.bitPattern.littleEndian }))
        b.add("f16", "F16", [8], bytes(values.map { Float16($0).bitPattern.littleEndian }))
        b.add("bf16", "BF16", [4, 2], bytes(values.map { UInt16($0.bitPattern >> 16).littleEndian }))
        b.add("f64", "F64", [8], bytes(values.map { Double($0).bitPattern.littleEndian }))
        b.add("ids", "I64", [1, 3], bytes([Int64(1), 2, 3]))
        let file = try SafeTensorFile(path: write(b.data(), dir))
        #expect(try file.floats("f32") == values)
        #expect(try file.floats("f16") == values.map { Float(Float16($0)) })
        #expect(try file.floats("bf16") == values.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) })
        #expect(try file.floats("f64") == values)
        #expect(file.tensors["bf16"]?.shape == [4, 2])
        #expect(file.metadata["format"] == "pt")
        #expect(throws: TeacherError.unsupportedDType(tensor: "ids", dtype: "I64")) { try file.floats("ids") }
        #expect(throws: TeacherError.missingTensor("nope")) { try file.floats("nope") }
    }

    /// Every binary16 bit pattern against Swift's own Float16 conversion.
    @Test func halfConversionIsExactForAllBitPatterns() {
        for bits in UInt16.min...UInt16.max {
            let ours = halfToFloat(bits), swift = Float(Float16(bitPattern: bits))
            #expect(ours.bitPattern == swift.bitPattern || (ours.isNaN && swift.isNaN), "bits \(bits)")
        }
    }

    @Test func corruptFilesThrow() throws {
        let dir = try makeTemporaryDirectory("teacher"); defer { removeTemporaryDirectory(dir) }
        var good = SafeTensorsBuilder()
        good.add("a", "F32", [2], bytes([Float(1), 2]))
        good.add("b", "F16", [2, 2], bytes([UInt16](repeating: 0x3C00, count: 4)))
        _ = try SafeTensorFile(path: write(good.data(), dir, "good.safetensors"))  // the builder is right

        var cases: [(String, Data)] = []
        cases.append(("empty file", Data()))
        cases.append(("short", Data([1, 2, 3])))
        cases.append(("header length past end", good.data(headerLengthDelta: 10_000)))
        cases.append(("huge header length", { var d = good.data(); d.replaceSubrange(0..<8, with: bytes([UInt64.max])); return d }()))
        cases.append(("not json", good.data(rawHeader: "this is not json")))
        cases.append(("json array", good.data(rawHeader: "[1, 2]")))
        cases.append(("bad dtype", good.data(rawHeader: #"{"a":{"dtype":"Q8","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2,2],"data_offsets":[8,16]}}"#)))
        cases.append(("missing offsets", good.data(rawHeader: #"{"a":{"dtype":"F32","shape":[2]},"b":{"dtype":"F16","shape":[2,2],"data_offsets":[8,16]}}"#)))
        cases.append(("negative dim", good.data(rawHeader: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2,2],"data_offsets":[8,16]}}"#)))
        cases.append(("float offsets", good.data(rawHeader: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0.5,8]},"b":{"dtype":"F16","shape":[2,2],"data_offsets":[8,16]}}"#)))
        cases.append(("metadata not strings", good.data(rawHeader: #"{"__metadata__":{"x":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2,2],"data_offsets":[8,16]}}"#)))
        var b = good; b.offsetOverride["b"] = [8, 40]
        cases.append(("offset out of range", b.data()))
        b = good; b.offsetOverride["b"] = [4, 12]
        cases.append(("overlap", b.data()))
        b = good; b.offsetOverride["a"] = [8, 0]
        cases.append(("reversed offsets", b.data()))
        b = good; b.entries[1].shape = [3, 2]
        cases.append(("shape × dtype size mismatch", b.data()))
        cases.append(("hole at end", good.data(trailing: [0, 0, 0, 0])))
        b = good; b.offsetOverride["a"] = [0, 8]; b.offsetOverride["b"] = [12, 20]
        cases.append(("hole between tensors", b.data(trailing: [0, 0, 0, 0])))
        for (label, data) in cases {
            let path = try write(data, dir, "bad.safetensors")
            do {
                _ = try SafeTensorFile(path: path)
                Issue.record("\(label): no error")
            } catch let e as TeacherError {
                if case .invalidSafetensors = e {} else { Issue.record("\(label): unexpected \(e)") }
            }
        }
        #expect(throws: TeacherError.self) { try SafeTensorFile(path: dir.appendingPathComponent("absent.safetensors").path) }
    }

    @Test func shardedIndexIsValidated() throws {
        let dir = try makeTemporaryDirectory("teacher"); defer { removeTemporaryDirectory(dir) }
        var s1 = SafeTensorsBuilder(); s1.add("x", "F32", [1], bytes([Float(7)]))
        var s2 = SafeTensorsBuilder(); s2.add("y", "BF16", [1], bytes([UInt16(0x4000)]))
        _ = try write(s1.data(), dir, "s1.safetensors")
        _ = try write(s2.data(), dir, "s2.safetensors")
        let index = dir.appendingPathComponent("model.safetensors.index.json")
        try Data(#"{"metadata":{},"weight_map":{"x":"s1.safetensors","y":"s2.safetensors"}}"#.utf8).write(to: index)
        let w = try SafeTensorWeights(directory: dir)
        #expect(try w.floats("x") == [7])
        #expect(try w.floats("y") == [2])
        #expect(Set(w.names) == ["x", "y"])
        #expect(throws: TeacherError.shapeMismatch(tensor: "x", expected: [2], found: [1])) { try w.floats("x", shape: [2]) }

        try Data(#"{"metadata":{},"weight_map":{"x":"s1.safetensors","y":"s1.safetensors"}}"#.utf8).write(to: index)
        #expect(throws: TeacherError.self) { try SafeTensorWeights(directory: dir) }  // y not in s1
        try Data(#"{"weight_map":{"x":"s1.safetensors","y":"s3.safetensors"}}"#.utf8).write(to: index)
        #expect(throws: TeacherError.self) { try SafeTensorWeights(directory: dir) }  // missing shard
        try Data(#"{"weight_map":{"x":"../s1.safetensors"}}"#.utf8).write(to: index)
        #expect(throws: TeacherError.self) { try SafeTensorWeights(directory: dir) }  // path escape
        try Data(#"{"weights":{}}"#.utf8).write(to: index)
        #expect(throws: TeacherError.self) { try SafeTensorWeights(directory: dir) }
        var dup = SafeTensorsBuilder(); dup.add("x", "F32", [1], bytes([Float(8)]))
        _ = try write(dup.data(), dir, "s3.safetensors")
        try Data(#"{"weight_map":{"x":"s1.safetensors","y":"s2.safetensors","z":"s3.safetensors"}}"#.utf8).write(to: index)
        #expect(throws: TeacherError.self) { try SafeTensorWeights(directory: dir) }  // x stored twice
        try FileManager.default.removeItem(at: index)
        #expect(throws: TeacherError.self) { try SafeTensorWeights(directory: dir) }  // nothing to load
    }
}
