/// What is wrong with a GGUF file: the reason carried by `TeacherError.invalidGGUF(file:problem:)`.
/// Every malformed, truncated or hostile file is one of these (the reader never traps).
///
/// ```swift
/// do { _ = try GGUFFile(path: path) }
/// catch TeacherError.invalidGGUF(let file, .truncated(let at, let what, _, _)) {
///     print("\(file) ends inside \(what) at byte \(at)")
/// }
/// ```
public enum GGUFProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file cannot be stat'ed or mapped.
    case unreadable(String)
    /// The first four bytes are not `GGUF`.
    case badMagic(UInt32)
    /// Only GGUF v2 and v3 (64-bit counts, little-endian) are read.
    case unsupportedVersion(UInt32)
    /// Reading `what` at byte `at` needs `needed` bytes where only `available` are left (a count or
    /// length too large for the rest of the file is reported here before anything is allocated).
    case truncated(at: Int, what: String, needed: UInt64, available: Int)
    /// A metadata value type id outside 0…12.
    case unknownValueType(key: String, type: UInt32)
    /// Arrays nested deeper than `GGUFReader.maxNesting`.
    case nestingTooDeep(key: String)
    /// A key, string value or tensor name that is not valid UTF-8.
    case invalidUTF8(at: Int)
    case duplicateKey(String)
    case duplicateTensor(String)
    /// A key the reader interprets (`general.alignment`) has another value type than it must.
    case wrongValueType(key: String, expected: String, found: String)
    /// `general.alignment` is 0 or not a power of two.
    case badAlignment(UInt64)
    /// A tensor type id ggml does not define.
    case unknownTensorType(tensor: String, type: UInt32)
    /// More than 4 dimensions.
    case tooManyDimensions(tensor: String, count: UInt32)
    /// A dimension beyond `Int`, or an element or byte count that overflows.
    case badDimensions(tensor: String, dimensions: [UInt64])
    /// The row length is not a multiple of the type's block size, so the dims do not describe whole blocks.
    case sizeMismatch(tensor: String, rowLength: Int, blockSize: Int)
    /// A tensor's offset is not a multiple of the file's alignment.
    case misaligned(tensor: String, offset: UInt64, alignment: Int)
    /// A tensor's bytes end past the end of the file.
    case outsideFile(tensor: String, offset: UInt64, byteCount: Int, dataSize: Int)
    /// Two tensors share bytes.
    case overlapping(tensor: String, other: String)

    public var description: String {
        switch self {
        case .unreadable(let r): return "unreadable: \(r)"
        case .badMagic(let m): return "bad magic 0x\(String(m, radix: 16)) (not a GGUF file)"
        case .unsupportedVersion(let v): return "unsupported GGUF version \(v) (2 and 3 are read)"
        case .truncated(let at, let what, let needed, let available):
            return "truncated: \(what) at byte \(at) needs \(needed) bytes, \(available) left"
        case .unknownValueType(let key, let t): return "metadata \(key) has unknown value type \(t)"
        case .nestingTooDeep(let key): return "metadata \(key): arrays nested too deeply"
        case .invalidUTF8(let at): return "string at byte \(at) is not valid UTF-8"
        case .duplicateKey(let k): return "duplicate metadata key \(k)"
        case .duplicateTensor(let t): return "duplicate tensor \(t)"
        case .wrongValueType(let key, let expected, let found): return "metadata \(key) is \(found), expected \(expected)"
        case .badAlignment(let a): return "general.alignment \(a) is not a power of two"
        case .unknownTensorType(let t, let type): return "tensor \(t) has unknown type \(type)"
        case .tooManyDimensions(let t, let n): return "tensor \(t) has \(n) dimensions (at most 4)"
        case .badDimensions(let t, let d): return "tensor \(t) has invalid dimensions \(d)"
        case .sizeMismatch(let t, let row, let block):
            return "tensor \(t): row length \(row) is not a multiple of the block size \(block)"
        case .misaligned(let t, let offset, let a): return "tensor \(t): offset \(offset) is not a multiple of \(a)"
        case .outsideFile(let t, let offset, let n, let size):
            return "tensor \(t): \(n) bytes at offset \(offset) lie outside the \(size)-byte data section"
        case .overlapping(let t, let o): return "tensors \(o) and \(t) overlap"
        }
    }
}
