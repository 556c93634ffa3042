import Foundation

/// A numpy `.npy` array: dtype, shape and the raw little-endian bytes (C order).
///
/// Notebooks send and receive vectors this way:
/// ```swift
/// let array = try NPYArray(data: body)          // parse
/// let rows = try array.floatMatrix()            // (n, d) as Float32
/// let out = NPYArray(floats: flat, shape: [n, d]).encoded()
/// ```
public struct NPYArray: Sendable, Equatable {
    public enum DType: String, Sendable {
        case float32 = "<f4", float16 = "<f2", float64 = "<f8", int64 = "<i8", int32 = "<i4"
        public var size: Int {
            switch self {
            case .float16: 2
            case .float32, .int32: 4
            case .float64, .int64: 8
            }
        }
    }

    public var dtype: DType
    public var shape: [Int]
    public var bytes: Data

    public var count: Int { shape.reduce(1, *) }

    public init(dtype: DType, shape: [Int], bytes: Data) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public init(floats: [Float], shape: [Int]) {
        precondition(shape.reduce(1, *) == floats.count)
        self.init(dtype: .float32, shape: shape, bytes: floats.withUnsafeBytes { Data($0) })
    }

    public init(int64s: [Int64], shape: [Int]? = nil) {
        self.init(dtype: .int64, shape: shape ?? [int64s.count], bytes: int64s.withUnsafeBytes { Data($0) })
    }

    /// Parses an `.npy` file (format versions 1, 2 and 3).
    public init(data: Data) throws {
        let d = [UInt8](data.prefix(12))
        guard d.count >= 10, d[0] == 0x93, d[1...5].elementsEqual("NUMPY".utf8) else {
            throw NPYError.badNPY("body is not a .npy file (missing \\x93NUMPY magic)")
        }
        let major = d[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(d[8]) | Int(d[9]) << 8
            headerStart = 10
        case 2, 3:
            guard d.count >= 12 else { throw NPYError.badNPY(".npy header truncated") }
            headerLength = Int(d[8]) | Int(d[9]) << 8 | Int(d[10]) << 16 | Int(d[11]) << 24
            headerStart = 12
        default:
            throw NPYError.badNPY("unsupported .npy format version \(major)")
        }
        guard data.count >= headerStart + headerLength else {
            throw NPYError.badNPY(".npy header truncated")
        }
        let start = data.startIndex
        let headerBytes = data[(start + headerStart)..<(start + headerStart + headerLength)]
        guard let header = String(data: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw NPYError.badNPY(".npy header is not text")
        }
        let (descr, fortran, shape) = try NPYArray.parseHeader(header)
        guard let dtype = DType(rawValue: descr == "|f2" ? "<f2" : descr) else {
            throw NPYError.unsupported(
                ".npy dtype '\(descr)' is not supported; send little-endian float32 ('<f4'), float16, float64 or int64/int32")
        }
        if fortran && shape.count > 1 {
            throw NPYError.badNPY(".npy arrays in Fortran order are not supported; use np.ascontiguousarray")
        }
        let payload = data[(start + headerStart + headerLength)...]
        guard let byteCount = NPYArray.byteCount(shape: shape, elementSize: dtype.size) else {
            throw NPYError.badNPY(".npy shape \(shape) is larger than any body (its size overflows)")
        }
        guard payload.count == byteCount else {
            throw NPYError.badNPY(".npy shape \(shape) needs \(byteCount) bytes of data, body has \(payload.count)")
        }
        // The payload stays a slice of `data` (no copy); readers below load it unaligned.
        self.init(dtype: dtype, shape: shape, bytes: payload)
    }

    /// The bytes `shape` × `elementSize` needs, or nil when that product overflows `Int`
    /// (a declared shape such as (2⁶², 2) must be refused, never multiplied blindly).
    static func byteCount(shape: [Int], elementSize: Int) -> Int? {
        var total = elementSize
        for n in shape {
            guard n >= 0 else { return nil }
            let (p, overflow) = total.multipliedReportingOverflow(by: n)
            if overflow { return nil }
            total = p
        }
        return total
    }

    static func parseHeader(_ header: String) throws -> (String, Bool, [Int]) {
        func value(of key: String) -> Substring? {
            guard let r = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
            var rest = header[r.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { return nil }
            rest = rest.dropFirst().drop { $0 == " " }
            return rest
        }
        guard let d = value(of: "descr"), let q = d.first, q == "'" || q == "\"",
              let end = d.dropFirst().firstIndex(of: q) else {
            throw NPYError.badNPY(".npy header has no descr")
        }
        let descr = String(d[d.index(after: d.startIndex)..<end])
        let fortran = value(of: "fortran_order")?.hasPrefix("True") ?? false
        guard let s = value(of: "shape"), s.first == "(", let close = s.firstIndex(of: ")") else {
            throw NPYError.badNPY(".npy header has no shape")
        }
        var shape = [Int]()
        for part in s[s.index(after: s.startIndex)..<close].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if t.isEmpty { continue }
            guard let n = Int(t), n >= 0 else { throw NPYError.badNPY(".npy shape is malformed") }
            shape.append(n)
        }
        return (descr, fortran, shape)
    }

    /// The `.npy` (version 1.0) encoding.
    public func encoded() -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = header.utf8.count
        out.append(contentsOf: [UInt8(n & 0xff), UInt8(n >> 8)])
        out.append(contentsOf: Array(header.utf8))
        out.append(bytes)
        return out
    }

    /// Values as Float32 (float16 and float64 are converted).
    public func floats() throws -> [Float] {
        // `bytes` may be a slice at any offset of a body (an .npz member), so values are copied or
        // loaded unaligned, never through a typed pointer to the bytes.
        let n = bytes.count / dtype.size
        switch dtype {
        case .float32:
            return bytes.withUnsafeBytes { raw in
                [Float](unsafeUninitializedCapacity: n) { out, count in
                    if n > 0 { UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: raw.baseAddress!, byteCount: n * 4) }
                    count = n
                }
            }
        case .float16:
            return bytes.withUnsafeBytes { raw in (0..<n).map { Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) } }
        case .float64:
            return bytes.withUnsafeBytes { raw in (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)) } }
        case .int32, .int64:
            throw NPYError.badNPY("expected a float array, got \(dtype.rawValue)")
        }
    }

    /// Values as Int64 (int32 is widened; integral floats are accepted).
    public func int64s() throws -> [Int64] {
        switch dtype {
        case .int64: return bytes.withUnsafeBytes { raw in (0..<(raw.count / 8)).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) } }
        case .int32: return bytes.withUnsafeBytes { raw in (0..<(raw.count / 4)).map { Int64(raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) } }
        default:
            throw NPYError.badNPY("expected an integer array of ids, got \(dtype.rawValue)")
        }
    }
}
