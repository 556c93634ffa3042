import Core
import Foundation
import Testing
@testable import Teacher

/// The GGUF reader against the `gguf` Python package (scripts/reference/teacher_gguf.py): the tiny
/// fixture's metadata (every value type, arrays of strings, nested arrays), tensor table and data
/// offset as `gguf.GGUFReader` reports them, and every tensor dequantised bit-exactly as
/// `gguf.quants.dequantize` does it.
@Suite struct GGUFTests {
    static let dir = TestPaths.fixtures.appendingPathComponent("gguf")
    static let tinyPath = dir.appendingPathComponent("tiny.gguf").path

    static func expected() throws -> [String: Any] { try TestPaths.fixtureJSON("gguf/tiny_expected.json") }

    @Test func headerMatchesTheGGUFPackage() throws {
        let file = try GGUFFile(path: Self.tinyPath)
        let exp = try Self.expected()
        #expect(file.version == 3)
        #expect(file.alignment == exp["alignment"] as? Int)
        #expect(file.alignment == 64)
        #expect(file.dataOffset == exp["data_offset"] as? Int)
        #expect(file.fileSize == exp["file_size"] as? Int)
        #expect(file.architecture == "llama")
        let tensors = try #require(exp["tensors"] as? [[String: Any]])
        #expect(file.tensors.map(\.name) == tensors.map { $0["name"] as! String })
        for (info, e) in zip(file.tensors, tensors) {
            #expect(info.type.description == e["type"] as? String, "\(info.name)")
            #expect(info.type.rawValue == (e["type_id"] as? Int).map(UInt32.init), "\(info.name)")
            #expect(info.dimensions == e["dims"] as? [Int], "\(info.name)")
            #expect(info.offset == e["offset"] as? Int, "\(info.name)")
            #expect(info.byteCount == e["n_bytes"] as? Int, "\(info.name)")
        }
    }

    @Test func everyMetadataValueMatches() throws {
        let file = try GGUFFile(path: Self.tinyPath)
        let meta = try #require(try Self.expected()["metadata"] as? [String: [String: Any]])
        #expect(Set(file.metadataKeys) == Set(meta.keys))
        #expect(file.metadataKeys.count == meta.count)
        for (key, e) in meta {
            let value = try #require(file.metadata[key], "\(key)")
            #expect(Self.typeName(value) == e["type"] as? String, "\(key)")
            #expect(Self.render(value) == Self.render(json: e["value"] as Any), "\(key)")
        }
        // The typed accessors.
        #expect(file.metadata["test.u64"]?.int == nil)  // 1.8e19 does not fit in Int
        #expect(file.metadata["test.i64"]?.int == -9_000_000_000_000_000_000)
        #expect(file.metadata["test.array.string"]?.strings == ["a", "", "ünïcödé", "Ġhello"])
        #expect(file.metadata["test.array.i16"]?.ints == [-32768, 32767])
        #expect(file.metadata["test.array.f32"]?.floats == [0.5, -1.25, 1e-30])
        #expect(try file.requireInt("test.u8") == 200)
        #expect(try file.requireString("test.string") == "héllo, 世界 🤗")
        #expect(throws: TeacherError.missingMetadata(key: "test.string", expected: "an integer")) { try file.requireInt("test.string") }
        #expect(throws: TeacherError.missingMetadata(key: "nope", expected: "an array of strings")) { try file.requireStrings("nope") }
    }

    @Test func everyTensorDequantisesBitExactly() throws {
        let file = try GGUFFile(path: Self.tinyPath)
        let reference = try NPZ.decode(Data(contentsOf: Self.dir.appendingPathComponent("tiny_expected.npz")))
        var checked = Set<GGMLType>()
        for info in file.tensors where info.type.isDequantizable {
            let exp = try #require(reference[info.name], "\(info.name) has no reference")
            #expect(exp.shape == info.shape, "\(info.name)")
            let got = try file.floats(info.name)
            let want = try exp.floats()
            #expect(got.count == want.count)
            let differing = zip(got, want).enumerated().filter { $1.0.bitPattern != $1.1.bitPattern }
            #expect(differing.isEmpty, "\(info.name) (\(info.type)): \(differing.count) values differ, first \(differing.prefix(3))")
            // Any row range gives the same values as the whole tensor.
            let rows = try file.floats(info.name, rows: 1..<info.rowCount)
            #expect(rows.map(\.bitPattern) == got[info.rowLength...].map(\.bitPattern), "\(info.name)")
            checked.insert(info.type)
        }
        #expect(checked == Set(GGMLType.allCases.filter(\.isDequantizable)))
    }

    @Test func largeTensorsConvertInParallelChunksToTheSameValues() throws {
        // 4 × parallelThreshold elements of Q4_K from repeated fixture blocks: chunked = serial.
        let file = try GGUFFile(path: Self.tinyPath)
        for name in ["t.q4_k", "t.q6_k", "t.q4_1"] {
            let info = try #require(file.tensor(name))
            let raw = try file.withRawBytes(name) { Array($0) }
            let copies = 4 * GGMLDequantize.parallelThreshold / info.elementCount + 1
            let big = [UInt8]((0..<copies).map { _ in raw }.joined())
            let floats = try big.withUnsafeBytes { try GGMLDequantize.floats($0, type: info.type, count: copies * info.elementCount) }
            let one = try file.floats(name)
            #expect(floats.map(\.bitPattern) == [Float]((0..<copies).map { _ in one }.joined()).map(\.bitPattern), "\(name)")
        }
    }

    @Test func version2IsReadLikeVersion3() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.tinyPath)))
        bytes[4] = 2
        let layout = try bytes.withUnsafeBytes { try GGUFHeader.layout(of: $0) }
        #expect(layout.version == 2)
        let v3 = try GGUFFile(path: Self.tinyPath)
        #expect(layout.tensors == v3.tensors && layout.metadata == v3.metadata)
    }

    @Test func tensorErrors() throws {
        let file = try GGUFFile(path: Self.tinyPath)
        #expect(throws: TeacherError.missingTensor("nope")) { try file.floats("nope") }
        #expect(throws: TeacherError.unsupportedDType(tensor: "t.i32", dtype: "I32")) { try file.floats("t.i32") }
        #expect(throws: TeacherError.shapeMismatch(tensor: "t.q4_0", expected: [64, 3], found: [3, 64])) {
            try file.floats("t.q4_0", shape: [64, 3])
        }
        #expect(try file.floats("t.q4_0", shape: [3, 64]).count == 192)
        #expect(throws: TeacherError.invalidArgument("rows 2..<4 of t.q4_0, which has 3")) { try file.floats("t.q4_0", rows: 2..<4) }
        #expect(try file.withRawBytes("t.i32") { Array($0) } == [1, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 3, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F])
        #expect(throws: TeacherError.missingFile("/nonexistent.gguf")) { try GGUFFile(path: "/nonexistent.gguf") }
        #expect(TeacherError.invalidGGUF(file: "x.gguf", problem: .badMagic(0)).code == "bad_model")
    }

    // MARK: Rendering values for comparison with the JSON fixture

    static func typeName(_ v: GGUFValue) -> String {
        if case .array(let t, _) = v { return "ARRAY[\(t)]" }
        return v.type.description
    }

    static func render(_ v: GGUFValue) -> String {
        switch v {
        case .float32(let f): return "0x" + String(f.bitPattern, radix: 16)
        case .float64(let f): return "0x" + String(f.bitPattern, radix: 16)
        case .bool(let b): return "\(b)"
        case .string(let s): return "'\(s)'"
        case .array(_, let a): return "[" + a.map(render).joined(separator: ",") + "]"
        case .uint8(let x): return "\(x)"
        case .int8(let x): return "\(x)"
        case .uint16(let x): return "\(x)"
        case .int16(let x): return "\(x)"
        case .uint32(let x): return "\(x)"
        case .int32(let x): return "\(x)"
        case .uint64(let x): return "\(x)"
        case .int64(let x): return "\(x)"
        }
    }

    /// The fixture writes integers as decimal strings, floats as {"bits": "0x…"}, strings that are
    /// not numbers as themselves (the only plain strings are string values).
    static func render(json: Any) -> String {
        if let a = json as? [Any] { return "[" + a.map { render(json: $0) }.joined(separator: ",") + "]" }
        if let d = json as? [String: Any], let bits = d["bits"] as? String { return bits }
        if let s = json as? String { return Int(s) != nil || UInt64(s) != nil ? s : "'\(s)'" }
        if let b = json as? Bool { return "\(b)" }
        return "?\(json)"
    }
}
