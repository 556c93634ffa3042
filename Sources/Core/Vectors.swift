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
        data.withUnsafeBytes { raw in
            switch dtype {
            case .float32: out.append(contentsOf: raw.bindMemory(to: Float.self))
            case .float16:
                for h in raw.bindMemory(to: UInt16.self) { out.append(Float(Float16(bitPattern: h))) }
            }
        }
    }

    public static func decode(_ data: Data, as dtype: VectorDType) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(data.count / dtype.size)
        decode(data, as: dtype, into: &out)
        return out
    }

    /// Index of the first NaN or infinite value, if any.
    public static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
        for i in 0..<values.count where !values[i].isFinite { return i }
        return nil
    }
}
