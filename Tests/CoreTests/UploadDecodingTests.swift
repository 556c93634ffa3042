import Core
import Foundation
import Testing

/// The upload path decodes `.npy` payloads in place (a slice of the body at any offset, as an `.npz`
/// member lies), scans values for NaN/infinity in vectorised blocks, and checksums downloads eight
/// bytes at a time: each must give what the simple forms give, at every alignment and block edge.
@Suite struct UploadDecodingTests {
    /// Every dtype read from a slice starting at offsets 0...7 of a larger buffer (so unaligned)
    /// gives the values written; one byte short is still refused.
    @Test func npyPayloadsDecodeAtAnyOffset() throws {
        let floats: [Float] = [1.5, -2.25, 3e-3, 1e30, 0, -0, 7, 8.125]
        let arrays: [(NPYArray, [Float]?, [Int64]?)] = [
            (NPYArray(floats: floats, shape: [2, 4]), floats, nil),
            (NPYArray(dtype: .float64, shape: [8], bytes: floats.map(Double.init).withUnsafeBytes { Data($0) }), floats, nil),
            (NPYArray(dtype: .float16, shape: [3], bytes: [Float16(1.5), -2.25, 0.5].map(\.bitPattern).withUnsafeBytes { Data($0) }), [1.5, -2.25, 0.5], nil),
            (NPYArray(int64s: [1, -2, 1 << 40]), nil, [1, -2, 1 << 40]),
            (NPYArray(dtype: .int32, shape: [3], bytes: [Int32(5), -6, 7].withUnsafeBytes { Data($0) }), nil, [5, -6, 7]),
        ]
        for (array, expectedFloats, expectedInts) in arrays {
            let encoded = array.encoded()
            for offset in 0..<8 {
                let padded = Data(repeating: 0xAB, count: offset) + encoded + Data([0xCD])
                let slice = padded[offset..<(offset + encoded.count)]
                let decoded = try NPYArray(data: slice)
                #expect(decoded.shape == array.shape && decoded.dtype == array.dtype)
                if let expectedFloats { #expect(try decoded.floats() == expectedFloats, "\(array.dtype) at +\(offset)") }
                if let expectedInts { #expect(try decoded.int64s() == expectedInts, "\(array.dtype) at +\(offset)") }
                #expect(throws: NPYError.self) { try NPYArray(data: padded[offset..<(offset + encoded.count - 1)]) }
                #expect(throws: NPYError.self) { try NPYArray(data: padded[offset..<(offset + encoded.count + 1)]) }
            }
        }
    }

    /// NaN and ±infinity are found at the first position they occur, on both sides of block edges.
    @Test func nonFiniteScanFindsTheFirstAtEveryEdge() {
        let n = 3 * 1024 + 5
        let clean = (0..<n).map { Float($0) * 0.5 - 100 }
        #expect(clean.withUnsafeBufferPointer(VectorCodec.firstNonFinite) == nil)
        #expect([Float]().withUnsafeBufferPointer(VectorCodec.firstNonFinite) == nil)
        for position in [0, 1, 1023, 1024, 1025, 2047, 2048, n - 1] {
            for bad in [Float.nan, .infinity, -.infinity, Float(bitPattern: 0x7fc0_0001), Float(bitPattern: 0xffff_ffff)] {
                var values = clean
                values[position] = bad
                if position + 7 < n { values[position + 7] = .nan }
                #expect(values.withUnsafeBufferPointer(VectorCodec.firstNonFinite) == position, "\(bad) at \(position)")
            }
        }
        // The largest finite values are not flagged.
        #expect([Float.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude].withUnsafeBufferPointer(VectorCodec.firstNonFinite) == nil)
    }

    /// The float16 range scan flags exactly the values `Float16(_:)` rounds to ±infinity.
    @Test func float16RangeScanFlagsWhatFloat16RoundsToInfinity() {
        let edge = Float(65_520)  // halfway between 65504 (largest float16) and 65536: rounds (to even) up
        for x in [edge, edge.nextDown, 65_504, edge.nextUp, 1e6, .greatestFiniteMagnitude] {
            for v in [x, -x] {
                let flagged = [0.5, v].withUnsafeBufferPointer(VectorCodec.firstBeyondFloat16) == 1
                #expect(flagged == Float16(v).isInfinite, "\(v)")
            }
        }
        #expect([Float]().withUnsafeBufferPointer(VectorCodec.firstBeyondFloat16) == nil)
        #expect([Float(1), 70_000, 80_000].withUnsafeBufferPointer(VectorCodec.firstBeyondFloat16) == 1)
    }

    /// The eight-bytes-at-a-time CRC-32 equals the bit-by-bit definition for every length 0...40 and
    /// a long input, whole and fed in uneven pieces.
    @Test func crc32MatchesTheBitwiseDefinition() {
        func reference(_ bytes: [UInt8]) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes {
                c ^= UInt32(b)
                for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1 }
            }
            return c ^ 0xFFFF_FFFF
        }
        var rng = SystemRandomNumberGenerator()
        for length in Array(0...40) + [4099] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let expected = reference(bytes)
            #expect(CRC32.checksum(Data(bytes)) == expected, "length \(length)")
            var pieces = CRC32()
            var start = 0, step = 1
            while start < length {
                pieces.update(Array(bytes[start..<min(length, start + step)]))
                start += step
                step = step % 11 + 2
            }
            #expect(pieces.value == expected, "length \(length) in pieces")
        }
    }
}
