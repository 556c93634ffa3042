import Foundation
import Testing
import TestSupport
@testable import Teacher

/// Broken model files are a `TeacherError`, never a trap: the crashers found in the safetensors
/// header checks, and fuzzing of the header parser. Seeds: Fixtures/fuzz/safetensors
/// (scripts/fuzz/make_seeds.py; `crash_*` are the crashers) and the tiny-bert shards.
@Suite(.serialized, .ownThreads) struct SafeTensorsFuzzTests {
    static let seeds: [(name: String, bytes: [UInt8])] = {
        let own = (try? Fuzz.seeds(in: TestPaths.fixtures.appendingPathComponent("fuzz/safetensors"))) ?? []
        let shards = ["model-00002-of-00002.safetensors"].compactMap { name in
            (try? Data(contentsOf: TestPaths.fixtures.appendingPathComponent("tiny-bert/\(name)"))).map { (name, [UInt8]($0)) }
        }
        return own + shards
    }()

    /// shape × dtype size overflowing Int: once trapped while building the error message, once wrapped
    /// to 0 bytes and was accepted as a 2⁶²-element tensor. Both are refused when the file opens.
    @Test(arguments: ["crash_size_overflow_message.safetensors", "crash_size_wraps_to_zero.safetensors"])
    func overflowingShapesAreATeacherError(name: String) throws {
        let path = TestPaths.fixtures.appendingPathComponent("fuzz/safetensors/\(name)").path
        do {
            let file = try SafeTensorFile(path: path)
            Issue.record("opened, with tensors \(file.tensors.values.map(\.shape))")
        } catch let TeacherError.invalidSafetensors(file, reason) {
            #expect(file == name)
            #expect(reason == "tensor a: shape [\(name.contains("zero") ? 1 << 62 : 1 << 61)] × F32 overflows")
        }
    }

    @Test func fuzzSafetensorsHeader() {
        let dictionary = ["\"dtype\":\"F32\"", "\"shape\":[", "\"data_offsets\":[", "]", "},", "\"__metadata__\":{", "\"BF16\"", "[]"]
            .map { Array($0.utf8) }
        let run = Fuzz.run(target: "safetensors", seeds: Self.seeds.map(\.bytes), dictionary: dictionary,
                           iterations: Fuzz.iterations(default: 2_500)) { bytes in
            try bytes.withUnsafeBytes { file in
                let layout = try SafeTensorHeader.layout(of: file, name: "fuzz.safetensors")
                // Whatever the header accepts must be readable: every tensor lies inside the file.
                for t in layout.tensors.values where t.dtype.isConvertibleToFloat && t.elementCount > 0 {
                    let raw = UnsafeRawBufferPointer(rebasing: file[(layout.dataStart + t.begin)..<(layout.dataStart + t.end)])
                    var out = [Float](repeating: 0, count: t.elementCount)
                    out.withUnsafeMutableBufferPointer { convertToFloat(raw, dtype: t.dtype, count: t.elementCount, into: $0.baseAddress!) }
                }
            }
        } accepts: { $0 is TeacherError }
        #expect(run.unexpected.isEmpty, "\(run.unexpected.map(\.error))")
        #expect(run.parsed > 0 && run.rejected > 0)
    }
}
