/// The value types of GGUF metadata, numbered as in the file.
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Bytes of one value of a fixed-size type (nil for string and array).
    var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// The fewest bytes one value can take (a string: its 8-byte length; an array: type and count).
    var minimumSize: Int { fixedSize ?? (self == .string ? 8 : 12) }

    /// The `gguf` Python package's name: `UINT8`, …, `FLOAT64`.
    public var description: String {
        switch self {
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .uint32: "UINT32"
        case .int32: "INT32"
        case .float32: "FLOAT32"
        case .bool: "BOOL"
        case .string: "STRING"
        case .array: "ARRAY"
        case .uint64: "UINT64"
        case .int64: "INT64"
        case .float64: "FLOAT64"
        }
    }
}

/// One metadata value of a GGUF file. Arrays keep their declared element type (an empty array's
/// type is known too) and may nest.
///
/// ```swift
/// let file = try GGUFFile(path: path)
/// file.metadata["llama.block_count"]?.int          // 30 (any integer type)
/// file.metadata["tokenizer.ggml.tokens"]?.strings  // ["<|endoftext|>", …]
/// if case .array(.float32, let values)? = file.metadata["x"] { … }
/// ```
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    indirect case array(GGUFValueType, [GGUFValue])

    /// The value's type (`ARRAY` for arrays).
    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// Any integer value that fits in `Int` (nil for other types and for a UInt64 above `Int.max`).
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// A float32 or float64 value, as Double (integers too, when exactly representable).
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: int.flatMap { Double(exactly: $0) }
        }
    }

    public var bool: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var string: String? { if case .string(let v) = self { v } else { nil } }
    /// The elements of an array (nil for scalars).
    public var array: [GGUFValue]? { if case .array(_, let v) = self { v } else { nil } }
    /// An array of strings (nil for anything else).
    public var strings: [String]? {
        guard case .array(.string, let values) = self else { return nil }
        return values.compactMap(\.string)
    }
    /// An array of integers of any integer type (nil for anything else or an element beyond `Int`).
    public var ints: [Int]? {
        guard case .array(let t, let values) = self, t != .float32, t != .float64, t.fixedSize != nil, t != .bool
        else { return nil }
        var out: [Int] = []
        out.reserveCapacity(values.count)
        for v in values { guard let i = v.int else { return nil }; out.append(i) }
        return out
    }
    /// An array of float32 or float64 values, as Float.
    public var floats: [Float]? {
        guard case .array(let t, let values) = self, t == .float32 || t == .float64 else { return nil }
        return values.compactMap { $0.double.map(Float.init) }
    }
}
