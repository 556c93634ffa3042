import Foundation
import Testing
@testable import Core

/// Fixtures come from scripts/reference/core_codecs.py (numpy, hashlib, zlib).
enum Fixtures {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func data(_ name: String) throws -> Data { try Data(contentsOf: dir.appendingPathComponent(name)) }
    static let reference: JSONValue = {
        JSONValue.parse(String(decoding: (try? data("codecs.json")) ?? Data(), as: UTF8.self)) ?? .null
    }()
}

@Test(arguments: ["f32_2d", "f16_2d", "f64_1d", "i64_1d", "i32_1d", "f32_empty"])
func npyFilesWrittenByNumpyParse(name: String) throws {
    let array = try NPYArray(data: try Fixtures.data("\(name).npy"))
    let ref = try #require(Fixtures.reference["arrays"]?[name])
    #expect(array.shape == ref["shape"]!.arrayValue!.map { $0.intValue! })
    let expected = ref["values"]!.arrayValue!.map { $0.doubleValue! }
    let got: [Double] = name.hasPrefix("i") ? try array.int64s().map(Double.init) : try array.floats().map(Double.init)
    #expect(got.count == expected.count)
    for (g, e) in zip(got, expected) { #expect(abs(g - e) <= 1e-6 * max(1, abs(e))) }
}

@Test func npyVersion2HeaderParses() throws {
    let v1 = try NPYArray(data: try Fixtures.data("f32_2d.npy"))
    let v2 = try NPYArray(data: try Fixtures.data("f32_2d_v2.npy"))
    #expect(v1 == v2)
}

@Test func npyEncodingRoundTripsAndIsByteIdenticalToNumpy() throws {
    let original = try Fixtures.data("f32_2d.npy")
    let array = try NPYArray(data: original)
    #expect(array.encoded() == original)  // numpy's own 1.0 header layout, 64-byte aligned
}

@Test func npzFromNumpySavezParses() throws {
    let members = try NPZ.decode(try Fixtures.data("batch.npz"))
    #expect(try members["ids"]!.int64s() == [10, 20, 30])
    #expect(members["vectors"]!.shape == [3, 3])
    let f32 = try NPYArray(data: try Fixtures.data("f32_2d.npy")).floats()
    #expect(try members["vectors"]!.floats() == Array(f32[0..<9]))
    #expect(try members["rows"]!.int64s() == [1, 1, 1])
}

@Test func compressedNpzIsRejectedClearly() throws {
    #expect(throws: NPYError.self) { try NPZ.decode(try Fixtures.data("compressed.npz")) }
    do { _ = try NPZ.decode(try Fixtures.data("compressed.npz")) } catch let e as NPYError {
        let api = APIError(e)
        #expect(api.status == 415 && api.code == "unsupported_media_type")
        #expect(api.message.contains("savez_compressed"))
    }
}

@Test func npzWeWriteIsReadByNumpy() throws {
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("swejepa-npz-\(UUID().uuidString).npz")
    defer { try? FileManager.default.removeItem(at: tmp) }
    let vectors: [Float] = [0.5, -1.25, 3, 4, 5, 6]
    try NPZ.encode(["ids": NPYArray(int64s: [7, 9]), "vectors": NPYArray(floats: vectors, shape: [2, 3])]).write(to: tmp)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", "import numpy as np,sys,json; z=np.load(sys.argv[1]); print(json.dumps([z['ids'].tolist(), z['vectors'].shape, z['vectors'].ravel().tolist()]))", tmp.path]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    p.waitUntilExit()
    let out = JSONValue.parse(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    #expect(p.terminationStatus == 0)
    #expect(out == .array([[7, 9], [2, 3], .array(vectors.map { .number(Double($0)) })]))
}

@Test func malformedNpyIsABadRequest() {
    let cases: [Data] = [Data(), Data("not numpy".utf8), Data([0x93] + Array("NUMPY".utf8) + [1, 0, 200, 0] + Array("{'descr'".utf8))]
    for c in cases {
        #expect(throws: NPYError.self) { try NPYArray(data: c) }
    }
    // Header says 5×3 float32 but the payload is short.
    var short = try! Fixtures.data("f32_2d.npy")
    short.removeLast(4)
    #expect(throws: NPYError.self) { try NPYArray(data: short) }
}

@Test func sha256AndCRC32MatchHashlibAndZlib() throws {
    for (text, hex) in Fixtures.reference["sha256"]!.objectValue! {
        #expect(SHA256.hex(text) == hex.stringValue!)
    }
    for (text, crc) in Fixtures.reference["crc32"]!.objectValue! {
        #expect(Double(CRC32.checksum(Data(text.utf8))) == crc.doubleValue!)
        // Given in pieces (as a streamed .npz download does), the same value as zlib's.
        let bytes = Array(text.utf8)
        var pieces = CRC32()
        for start in stride(from: 0, to: bytes.count, by: 3) { pieces.update(Array(bytes[start..<min(bytes.count, start + 3)])) }
        #expect(Double(pieces.value) == crc.doubleValue!, "\(text)")
    }
}

@Test func bodyNormalisationMatchesTheReference() throws {
    for item in Fixtures.reference["bodies"]!.arrayValue! {
        let body = item["body"]!.stringValue!
        #expect(FunctionHash.normalizedBody(body) == item["normalized"]!.stringValue!, "body: \(body.debugDescription)")
        #expect(FunctionHash.body(body) == item["hash"]!.stringValue!)
    }
}

/// A size, offset or count past the 32-bit (16-bit) ZIP fields is a thrown `TooLarge`, not a trap
/// or a silently truncated archive; the largest value that fits is written as is.
@Test func zipRecordRefusesSizesFromFourGiB() throws {
    let fourGiB = 1 << 32
    #expect(throws: ZipRecord.TooLarge.self) { try ZipRecord.local(name: "vectors.npy", crc: 0, size: fourGiB, deferred: false) }
    #expect(throws: ZipRecord.TooLarge.self) { try ZipRecord.local(name: "vectors.npy", crc: 0, size: Int(UInt32.max), deferred: false) }
    #expect(throws: ZipRecord.TooLarge.self) { try ZipRecord.dataDescriptor(crc: 0, size: fourGiB + 5) }
    #expect(throws: ZipRecord.TooLarge.self) { try ZipRecord.central(name: "ids.npy", crc: 0, size: 8, offset: fourGiB, deferred: false) }
    #expect(throws: ZipRecord.TooLarge.self) { try ZipRecord.end(entries: 3, centralSize: 100, centralOffset: fourGiB) }
    #expect(throws: ZipRecord.TooLarge.self) { try ZipRecord.end(entries: 70_000, centralSize: 100, centralOffset: 0) }
    let error = try #require(throws: ZipRecord.TooLarge.self) { try ZipRecord.local(name: "v.npy", crc: 0, size: fourGiB, deferred: false) }
    #expect(error.category == .tooLarge && error.value == fourGiB)

    let largest = try ZipRecord.local(name: "v.npy", crc: 0, size: ZipRecord.maxSize, deferred: false)
    #expect(Array(largest[18..<26]) == [0xfe, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff])
}
