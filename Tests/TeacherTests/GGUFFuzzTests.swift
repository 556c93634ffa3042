import Foundation
import Testing
import TestSupport
@testable import Teacher

/// Seeded mutation fuzzing of the GGUF reader (Tests/TestSupport/Fuzz.swift): the tiny fixture and
/// a few hand-built files, mutated; every input parses or throws a `GGUFProblem`, and whatever
/// parses is dequantised tensor by tensor straight from the input's bytes (a tensor the header
/// accepted that lay outside them would trap on the slice).
@Suite(.serialized, .ownThreads) struct GGUFFuzzTests {
    static let seeds: [[UInt8]] = {
        var seeds: [[UInt8]] = []
        if let tiny = try? Data(contentsOf: URL(fileURLWithPath: GGUFTests.tinyPath)) { seeds.append([UInt8](tiny)) }
        var g = GGUFBytes(alignment: 64)
        g.kv("a", type: 9, value: GGUFBytes.le(UInt32(8)) + GGUFBytes.le(UInt64(2)) + GGUFBytes.string("x") + GGUFBytes.string("yz"))
        g.tensor("q", dims: [32, 2], type: 2, offset: 0)
        g.tensor("k", dims: [256], type: 12, offset: 64)
        g.data = [UInt8](repeating: 0x11, count: 64 + 144)
        seeds.append(g.bytes)
        return seeds
    }()

    @Test func fuzzGGUF() {
        let dictionary: [[UInt8]] = [Array("GGUF".utf8), [3, 0, 0, 0], [2, 0, 0, 0], [9, 0, 0, 0], [8, 0, 0, 0],
                                     [12, 0, 0, 0], [14, 0, 0, 0], Array("general.alignment".utf8)]
        let run = Fuzz.run(target: "gguf", seeds: Self.seeds, dictionary: dictionary,
                           iterations: Fuzz.iterations(default: 3_000)) { bytes in
            try bytes.withUnsafeBytes { file in
                let layout: GGUFLayout
                do { layout = try GGUFHeader.layout(of: file) } catch { throw error as any Error }
                for t in layout.tensors where t.type.isDequantizable {
                    let start = layout.dataOffset + t.offset
                    let raw = UnsafeRawBufferPointer(rebasing: file[start..<(start + t.byteCount)])
                    _ = try GGMLDequantize.floats(raw, type: t.type, count: t.elementCount, name: t.name)
                }
            }
        } accepts: { $0 is GGUFProblem }
        #expect(run.unexpected.isEmpty, "\(run.unexpected.map(\.error))")
        #expect(run.parsed > 0 && run.rejected > 0)
    }
}
