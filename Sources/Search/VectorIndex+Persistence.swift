import CFaiss
import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What an index file says about itself (JSON header, guarded by its own checksum).
public struct IndexFileHeader: Codable, Sendable, Equatable {
    /// The store's write generation the index reflects.
    public var generation: UInt64
    public var dim: Int
    public var metric: Metric
    public var factory: IndexFactory
    /// Live vectors.
    public var count: Int
    public var payloadLength: Int
    /// cfaiss_checksum of the payload, hex.
    public var payloadChecksum: String
    public var faissVersion: String

    enum CodingKeys: String, CodingKey {
        case generation, dim, metric, factory, count, payloadLength, payloadChecksum, faissVersion
    }

    public init(generation: UInt64, dim: Int, metric: Metric, factory: IndexFactory, count: Int,
                payloadLength: Int, payloadChecksum: String, faissVersion: String) {
        self.generation = generation; self.dim = dim; self.metric = metric; self.factory = factory
        self.count = count; self.payloadLength = payloadLength; self.payloadChecksum = payloadChecksum
        self.faissVersion = faissVersion
    }

    /// Files written before the metric had one spelling say `"inner_product"` for `ip`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .metric)
        guard let metric = Metric(rawValue: name == "inner_product" ? Metric.ip.rawValue : name) else {
            throw DecodingError.dataCorruptedError(forKey: .metric, in: c, debugDescription: "unknown metric \"\(name)\"")
        }
        self.init(generation: try c.decode(UInt64.self, forKey: .generation), dim: try c.decode(Int.self, forKey: .dim),
                  metric: metric, factory: try c.decode(IndexFactory.self, forKey: .factory),
                  count: try c.decode(Int.self, forKey: .count), payloadLength: try c.decode(Int.self, forKey: .payloadLength),
                  payloadChecksum: try c.decode(String.self, forKey: .payloadChecksum),
                  faissVersion: try c.decode(String.self, forKey: .faissVersion))
    }
}

/// Index files: `SWJIDX01`, u32 header length, JSON header, u64 header checksum, payload (the
/// shim's serialised index). Written with `AtomicFile`, so a reader sees either the old file or
/// the new one; a truncated or altered file fails its checksums on load.
extension VectorIndex {
    static let fileMagic: [UInt8] = Array("SWJIDX01".utf8)

    /// Writes the index atomically to `url`, stamped with `generation`.
    ///
    ///     try index.write(to: dir.appendingPathComponent("sig_mean.faissidx"), generation: 42)
    public func write(to url: URL, generation: UInt64) throws {
        var raw: UnsafeMutablePointer<UInt8>?
        var length = 0
        try Shim.call { err, len in cfaiss_serialize(handle, &raw, &length, err, len) }
        guard let raw else { throw SearchError.faissRejected("serialisation returned no bytes") }
        defer { cfaiss_free_buffer(raw) }
        let header = IndexFileHeader(
            generation: generation, dim: dim, metric: metric, factory: factory, count: count,
            payloadLength: length, payloadChecksum: String(cfaiss_checksum(raw, length, 0), radix: 16),
            faissVersion: String(cString: cfaiss_version()))
        let json = try JSONEncoder().encode(header)
        var head = Self.fileMagic
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { head.append(contentsOf: $0) }
        head.append(contentsOf: json)
        let hsum = json.withUnsafeBytes { cfaiss_checksum($0.bindMemory(to: UInt8.self).baseAddress, json.count, 0) }
        withUnsafeBytes(of: hsum.littleEndian) { head.append(contentsOf: $0) }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        do {
            try head.withUnsafeBytes { try AtomicFile.write(to: url, parts: [$0, UnsafeRawBufferPointer(start: raw, count: length)]) }
        } catch let e as AtomicFile.Failure {
            throw SearchError.io(path: e.path, message: e.message)
        }
    }

    /// Reads only the header of an index file (checks magic, header checksum and file length,
    /// not the payload checksum).
    public static func readHeader(at url: URL) throws -> IndexFileHeader {
        let file = try MappedFile(url)
        return try parseHeader(file.bytes, path: url.path).header
    }

    /// Loads an index file, verifying both checksums before FAISS sees a byte.
    /// Throws `missingIndexFile`, `corruptIndexFile` (truncated, flipped bytes, not an index) or,
    /// when `expectedGeneration` is given and differs, `staleIndexFile`.
    ///
    ///     let (index, generation) = try VectorIndex.load(from: url, expectedGeneration: storeGen)
    public static func load(from url: URL, expectedGeneration: UInt64? = nil) throws -> (index: VectorIndex, generation: UInt64) {
        _ = configureFaiss
        let path = url.path
        let file = try MappedFile(url)
        let (header, payloadStart) = try parseHeader(file.bytes, path: path)
        if let expectedGeneration, expectedGeneration != header.generation {
            throw SearchError.staleIndexFile(path: path, found: header.generation, expected: expectedGeneration)
        }
        let payload = UnsafeRawBufferPointer(rebasing: file.bytes[payloadStart...])
        let base = payload.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let sum = String(cfaiss_checksum(base, payload.count, 0), radix: 16)
        guard sum == header.payloadChecksum else {
            throw SearchError.corruptIndexFile(path: path, reason: "payload checksum mismatch (file altered)")
        }
        var out: UnsafeMutableRawPointer?
        do {
            try Shim.call { err, len in cfaiss_deserialize(base, payload.count, &out, err, len) }
        } catch SearchError.corruptIndexFile(_, let reason) {
            throw SearchError.corruptIndexFile(path: path, reason: reason)
        } catch let e as SearchError {
            throw SearchError.corruptIndexFile(path: path, reason: e.description)
        }
        guard let out else { throw SearchError.corruptIndexFile(path: path, reason: "no index decoded") }
        let index = VectorIndex(adopting: out, factory: header.factory, metric: header.metric)
        guard index.dim == header.dim, index.count == header.count,
              Int(cfaiss_metric(out)) == Int(header.metric.faissCode) else {
            throw SearchError.corruptIndexFile(path: path, reason: "index does not match its header")
        }
        return (index, header.generation)
    }

    static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (header: IndexFileHeader, payloadStart: Int) {
        func corrupt(_ reason: String) -> SearchError { .corruptIndexFile(path: path, reason: reason) }
        guard bytes.count >= 12 else { throw corrupt("truncated (\(bytes.count) bytes)") }
        guard Array(bytes[0..<8]) == fileMagic else { throw corrupt("not an index file (bad magic)") }
        let jsonLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        guard jsonLength <= 1 << 20, bytes.count >= 12 + jsonLength + 8 else { throw corrupt("truncated header") }
        let json = UnsafeRawBufferPointer(rebasing: bytes[12..<(12 + jsonLength)])
        let stored = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 12 + jsonLength, as: UInt64.self))
        guard cfaiss_checksum(json.baseAddress?.assumingMemoryBound(to: UInt8.self), jsonLength, 0) == stored else {
            throw corrupt("header checksum mismatch")
        }
        let header: IndexFileHeader
        do {
            header = try JSONDecoder().decode(IndexFileHeader.self, from: Data(json))
        } catch {
            throw corrupt("unreadable header: \(error)")
        }
        let start = 12 + jsonLength + 8
        guard bytes.count - start == header.payloadLength else {
            throw corrupt("payload is \(bytes.count - start) bytes, header says \(header.payloadLength) (truncated?)")
        }
        return (header, start)
    }
}

/// A read-only memory map of a whole file (unmapped on deinit).
final class MappedFile {
    let bytes: UnsafeRawBufferPointer
    private let mapped: UnsafeMutableRawPointer?
    private let length: Int

    init(_ url: URL) throws {
        let path = url.path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { throw SearchError.missingIndexFile(path: path) }
            throw SearchError.io(path: path, message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SearchError.io(path: path, message: String(cString: strerror(errno))) }
        length = Int(st.st_size)
        if length == 0 {
            mapped = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw SearchError.io(path: path, message: String(cString: strerror(errno))) }
        mapped = p
        bytes = UnsafeRawBufferPointer(start: p, count: length)
    }

    deinit {
        if let mapped { munmap(mapped, length) }
    }
}
