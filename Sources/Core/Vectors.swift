import Foundation

/// Converting vectors between their wire and storage forms.
public enum VectorCodec {
    /// Encodes Float32 values as little-endian bytes of `dtype`.
    public static func encode(_ values: UnsafeBufferPointer<Float>, as dtype: VectorDType) -> Data {
        switch dtype {
        case .float32:
            return Data(buffer: values)
        case .float16:
            var halves = [UInt16](repeating: 0, count: values.count)
            for i in 0..<values.count { halves[i] = Float16(values[i]).bitPattern }
            return halves.withUnsafeBytes { Data($0) }
        }
    }

    public static func encode(_ values: [Float], as dtype: VectorDType) -> Data {
        values.withUnsafeBufferPointer { encode($0, as: dtype) }
    }

    /// Decodes little-endian bytes of `dtype` into Float32 values, appended to `out`.
    public static func decode(_ data: Data, as dtype: VectorDType, into out: inout [Float]) {
        data.withUnsafeBytes { decode($0, as: dtype, into: &out) }
    }

    /// Decodes little-endian bytes of `dtype` (any alignment) into Float32 values, appended to `out`.
    public static func decode(_ raw: UnsafeRawBufferPointer, as dtype: VectorDType, into out: inout [Float]) {
        switch dtype {
        case .float32:
            let n = raw.count / 4, start = out.count
            out.append(contentsOf: repeatElement(0, count: n))
            out.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[(start * 4)...]).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[..<(n * 4)])) }
        case .float16:
            for i in 0..<(raw.count / 2) { out.append(Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))) }
        }
    }

    public static func decode(_ data: Data, as dtype: VectorDType) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(data.count / dtype.size)
        decode(data, as: dtype, into: &out)
        return out
    }

    /// Index of the first value that float16 rounds to infinity (|x| ≥ 65520, i.e. beyond
    /// `Float16.greatestFiniteMagnitude` 65504 by more than half its last step), if any.
    /// `encode(_:as: .float16)` rounds to nearest even and would store such a value as ±infinity.
    ///
    ///     [1, -70_000].withUnsafeBufferPointer(VectorCodec.firstBeyondFloat16)   // 1
    public static func firstBeyondFloat16(_ values: UnsafeBufferPointer<Float>) -> Int? {
        let limit: Float = 65_520
        for i in 0..<values.count where abs(values[i]) >= limit { return i }
        return nil
    }

    /// Index of the first NaN or infinite value, if any.
    ///
    /// Scans blocks of 1024 branch-free on the exponent bits (all ones: NaN or ±infinity), which the
    /// compiler vectorises, and searches a block value by value only when it holds one.
    public static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
        values.withMemoryRebound(to: UInt32.self) { bits in
            var blockStart = 0
            while blockStart < bits.count {
                let end = min(bits.count, blockStart + 1024)
                var any: UInt32 = 0
                for i in blockStart..<end { any |= (bits[i] & 0x7f80_0000) == 0x7f80_0000 ? 1 : 0 }
                if any != 0 {
                    for i in blockStart..<end where (bits[i] & 0x7f80_0000) == 0x7f80_0000 { return i }
                }
                blockStart = end
            }
            return nil
        }
    }
}
