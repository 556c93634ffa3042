import Foundation
import Testing
import TestSupport
@testable import Core

/// Uploads that used to crash the server (issue 12, item 1) and fuzzing of the `.npy` / `.npz`
/// parsers. Seeds: Fixtures/fuzz/{npy,npz} (scripts/fuzz/make_seeds.py; `crash_*` are the crashers).
@Suite(.serialized) struct NPYFuzzTests {
    static let npySeeds = (try? Fuzz.seeds(in: Fixtures.dir.appendingPathComponent("fuzz/npy"))) ?? []
    static let npzSeeds = (try? Fuzz.seeds(in: Fixtures.dir.appendingPathComponent("fuzz/npz"))) ?? []

    static func seed(_ name: String) throws -> Data {
        let all = npySeeds + npzSeeds
        return Data(try #require(all.first { $0.name == name }).bytes)
    }

    static func badMessage(_ body: () throws -> Any) -> String? {
        do { _ = try body(); return nil } catch let e as NPYError { return "\(e.code): \(e)" } catch { return "other: \(error)" }
    }

    /// A shape whose product (2⁶² × 2) or byte count (2⁶¹ × 4) overflows is refused, not multiplied.
    @Test(arguments: ["crash_shape_overflow_2p62x2.npy", "crash_bytes_overflow_2p61_f4.npy"])
    func overflowingShapesAreRefused(name: String) throws {
        let message = Self.badMessage { try NPYArray(data: try Self.seed(name)) }
        #expect(message?.hasPrefix("bad_npy: .npy shape") == true, "\(message ?? "parsed")")
        #expect(message?.contains("overflows") == true)
        #expect(NPYArray.byteCount(shape: [1 << 62, 2], elementSize: 4) == nil)
        #expect(NPYArray.byteCount(shape: [1 << 62, 4, 0], elementSize: 4) == nil)
        #expect(NPYArray.byteCount(shape: [3, 0, 1 << 62], elementSize: 4) == 0)
        #expect(NPYArray.byteCount(shape: [2, 3], elementSize: 4) == 24)
    }

    /// ZIP64 sizes, offsets and counts near 2⁶³/2⁶⁴ are refused before any arithmetic on them.
    @Test(arguments: ["crash_zip64_size_2p64m16.npz", "crash_zip64_offset_2p63m1.npz",
                      "crash_zip64_entries_2p64m1.npz", "crash_zip64_cd_offset_2p63m1.npz"])
    func zip64ExtremesAreRefused(name: String) throws {
        let message = Self.badMessage { try NPZ.decode(try Self.seed(name)) }
        #expect(message?.hasPrefix("bad_npz: .npz:") == true, "\(message ?? "parsed")")
    }

    /// One payload referenced by many central-directory entries (memory amplification) and a member
    /// named twice are refused.
    @Test func overlappingAndDuplicateMembersAreRefused() throws {
        let overlap = Self.badMessage { try NPZ.decode(try Self.seed("overlap_40_refs.npz")) }
        #expect(overlap?.hasPrefix("bad_npz: .npz: members") == true && overlap?.contains("overlap") == true, "\(overlap ?? "parsed")")
        let dup = Self.badMessage { try NPZ.decode(try Self.seed("duplicate_names.npz")) }
        #expect(dup == "bad_npz: .npz: member 'vectors.npy' appears more than once")
        // What numpy writes still reads, ZIP64 extras included.
        for name in ["savez.npz", "savez_zip64.npz", "zip64_central.npz", "tokens.npz"] {
            let members = try NPZ.decode(try Self.seed(name))
            #expect(try members["ids"]?.int64s() == [1, 2])
            #expect(members["vectors"]?.shape == [2, 3])
        }
    }

    @Test func fuzzNPY() {
        let dictionary = ["'shape': (", "'descr': '<f4'", "'fortran_order': True", ", ", "L,", ")", "}", "\u{93}NUMPY"]
            .map { Array($0.utf8) }
        let run = Fuzz.run(target: "npy", seeds: Self.npySeeds.map(\.bytes), dictionary: dictionary,
                           iterations: Fuzz.iterations(default: 6_000)) { bytes in
            let array = try NPYArray(data: Data(bytes))
            if array.dtype == .int64 || array.dtype == .int32 { _ = try array.int64s() } else { _ = try array.floats() }
            _ = array.encoded()
        } accepts: { $0 is NPYError }
        #expect(run.unexpected.isEmpty, "\(run.unexpected.map(\.error))")
        #expect(run.parsed > 0 && run.rejected > 0)
    }

    @Test func fuzzNPZ() {
        let dictionary: [[UInt8]] = [[0x50, 0x4b, 0x01, 0x02], [0x50, 0x4b, 0x03, 0x04], [0x50, 0x4b, 0x05, 0x06],
                                     [0x50, 0x4b, 0x06, 0x06], [0x50, 0x4b, 0x06, 0x07], [0x01, 0x00, 0x18, 0x00],
                                     [0xFF, 0xFF, 0xFF, 0xFF], Array("vectors.npy".utf8)]
        let run = Fuzz.run(target: "npz", seeds: Self.npzSeeds.map(\.bytes), dictionary: dictionary,
                           iterations: Fuzz.iterations(default: 4_000)) { bytes in
            let data = Data(bytes)
            let members = try NPZ.decode(data)
            let sizes = members.values.reduce(0) { $0 + $1.bytes.count }
            #expect(sizes <= data.count, "decoded members take more bytes than the body")
        } accepts: { $0 is NPYError }
        #expect(run.unexpected.isEmpty, "\(run.unexpected.map(\.error))")
        #expect(run.parsed > 0 && run.rejected > 0)
    }
}
