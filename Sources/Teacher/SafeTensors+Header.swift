import Foundation

/// The JSON header of a safetensors file: tensor entries plus an optional `__metadata__` string map.
///
/// `layout(of:name:)` reads and validates a whole file image; every number in it comes from the
/// file, so sizes are checked before arithmetic and a broken file is a `TeacherError`, never a trap:
/// ```swift
/// let layout = try SafeTensorHeader.layout(of: UnsafeRawBufferPointer(start: p, count: n), name: "model.safetensors")
/// layout.tensors["pooler.dense.bias"]?.shape  // [384]
/// ```
struct SafeTensorHeader: Decodable {
    struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    var entries: [String: Entry] = [:]
    var metadata: [String: String] = [:]

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for key in c.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = try c.decode([String: String].self, forKey: key)
            } else {
                entries[key.stringValue] = try c.decode(Entry.self, forKey: key)
            }
        }
    }

    /// The largest header accepted (the format's own reference implementation uses 100 MB).
    static let maxHeaderBytes = 100_000_000

    /// Where the tensors of a whole file image lie.
    struct Layout { var tensors: [String: SafeTensorInfo]; var metadata: [String: String]; var dataStart: Int }

    /// Validates a file image: header length and JSON, dtypes, shapes × dtype sizes against offsets
    /// (overflow-checked), offsets inside the file, no overlaps and no holes.
    static func layout(of file: UnsafeRawBufferPointer, name: String) throws -> Layout {
        func bad(_ reason: String) -> TeacherError { .invalidSafetensors(file: name, reason: reason) }
        guard file.count >= 8, let base = file.baseAddress else { throw bad("file shorter than the 8-byte header length") }
        let n = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard n <= UInt64(maxHeaderBytes) else { throw bad("header length \(n) is too large") }
        guard Int(n) <= file.count - 8 else { throw bad("header length \(n) exceeds the file size \(file.count)") }
        let dataStart = 8 + Int(n)
        let dataBytes = file.count - dataStart
        let header: SafeTensorHeader
        do { header = try JSONDecoder().decode(SafeTensorHeader.self, from: Data(bytes: base + 8, count: Int(n))) } catch {
            throw bad("header is not valid JSON of the safetensors form (\(describe(error)))")
        }
        var tensors: [String: SafeTensorInfo] = [:]
        for (key, entry) in header.entries {
            guard let dtype = SafeTensorDType(rawValue: entry.dtype) else {
                throw bad("tensor \(key) has unknown dtype \(entry.dtype)")
            }
            let shape = entry.shape
            guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("tensor \(key) has a negative dimension") }
            let off = entry.data_offsets
            guard off.count == 2 else { throw bad("tensor \(key) has \(off.count) data_offsets, expected 2") }
            let (begin, end) = (off[0], off[1])
            guard begin >= 0, begin <= end else { throw bad("tensor \(key) has data_offsets [\(begin), \(end)] out of order") }
            guard end <= dataBytes else {
                throw bad("tensor \(key) data_offsets end \(end) is past the end of the data (\(dataBytes) bytes)")
            }
            var size = dtype.size
            for d in shape {
                let (p, o) = size.multipliedReportingOverflow(by: d)
                guard !o else { throw bad("tensor \(key): shape \(shape) × \(dtype.rawValue) overflows") }
                size = p
            }
            guard size == end - begin else {
                throw bad("tensor \(key): shape \(shape) × \(dtype.rawValue) needs \(size) bytes, offsets give \(end - begin)")
            }
            tensors[key] = SafeTensorInfo(name: key, dtype: dtype, shape: shape, begin: begin, end: end)
        }
        // Sorted by offsets, tensors must tile the data section exactly.
        var cursor = 0
        for t in tensors.values.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            if t.begin < cursor { throw bad("tensor \(t.name) overlaps the previous tensor") }
            if t.begin > cursor { throw bad("hole in the data before tensor \(t.name)") }
            cursor = t.end
        }
        guard cursor == dataBytes else {
            throw bad("data section has \(dataBytes - cursor) unindexed bytes at its end")
        }
        return Layout(tensors: tensors, metadata: header.metadata, dataStart: dataStart)
    }

    private static func describe(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let c) = error { return c.debugDescription }
        if case DecodingError.typeMismatch(_, let c) = error { return "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)" }
        if case DecodingError.keyNotFound(let k, let c) = error { return "\((c.codingPath + [k]).map(\.stringValue).joined(separator: ".")) missing" }
        return "\(error)"
    }
}
