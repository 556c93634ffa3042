import Core
import FlyingFox
import FlyingSocks
import Foundation
import Store

/// A space's vectors as a response body produced page by page from the store (JSON, `.npy` or
/// `.npz`), so a download holds one page in memory whatever the space's size.
///
/// The layout (ids, rows, truncation) is read first, in one snapshot; values follow in pages of at
/// most `pageRows` rows, each its own read. A page whose ids or row counts no longer match the
/// layout (a vector deleted or re-uploaded with another token count meanwhile) ends the body
/// early: the client sees a cut connection, never a well-formed body with mixed data.
///
/// ```swift
/// let layout = try await store.vectorLayout(space: space.name, ids: nil)
/// let body = VectorDownload(store: store, space: space, layout: layout, format: .npz)
/// return HTTPResponse(statusCode: .ok, headers: [.contentType: body.format.mediaType], body: body.httpBody)
/// ```
struct VectorDownload: AsyncBufferedSequence, AsyncBufferedIteratorProtocol, Sendable {
    typealias Element = UInt8

    enum Format: Sendable {
        case json, npy, npz
        var mediaType: String {
            switch self {
            case .json: "application/json"
            case .npy: "application/x-npy"
            case .npz: "application/x-npz"
            }
        }
    }

    /// Rows read from the store per page (a 384-d page is 768 KiB of floats).
    static let pageRows = 512

    let store: any StoreBackend
    let space: SpaceRecord
    let layout: VectorLayout
    let format: Format
    private let pages: [Range<Int>]
    private var nextPage = 0
    private var phase = Phase.head
    private var crc = CRC32()
    private enum Phase { case head, pages, tail, done }

    init(store: any StoreBackend, space: SpaceRecord, layout: VectorLayout, format: Format) {
        self.store = store
        self.space = space
        self.layout = layout
        self.format = format
        pages = layout.pages(maxRows: Self.pageRows)
    }

    /// The response body: with a Content-Length for `.npy`/`.npz`, chunked for JSON.
    var httpBody: HTTPBodySequence {
        if let n = byteCount { return HTTPBodySequence(from: self, count: n, suggestedBufferSize: 64 * 1024) }
        return HTTPBodySequence(from: self, suggestedBufferSize: 64 * 1024)
    }

    func makeAsyncIterator() -> VectorDownload { self }

    mutating func next() async throws -> UInt8? { fatalError("use nextBuffer") }

    mutating func nextBuffer(suggested count: Int) async throws -> [UInt8]? {
        switch phase {
        case .head:
            phase = .pages
            return try head()
        case .pages:
            guard nextPage < pages.count else {
                phase = .tail
                return try await nextBuffer(suggested: count)
            }
            let range = pages[nextPage]
            nextPage += 1
            let batch = try await store.vectors(space: space.name, ids: Array(layout.ids[range]))
            guard batch.ids == Array(layout.ids[range]), batch.rows == Array(layout.rows[range]) else {
                throw APIError.conflict("space '\(space.name)' changed during the download", code: "changed_during_read")
            }
            return encode(batch, first: range.lowerBound == 0)
        case .tail:
            phase = .done
            return try tail()
        case .done:
            return nil
        }
    }

    // MARK: - Sizes and framing

    private var vectorsBytes: Int { layout.totalRows * space.dim * 4 }
    private var npyHeader: [UInt8] {
        [UInt8](NPYArray(dtype: .float32, shape: [layout.totalRows, space.dim], bytes: Data()).encoded())
    }
    private var idsMember: [UInt8] { [UInt8](NPYArray(int64s: layout.ids).encoded()) }
    private var rowsMember: [UInt8] { [UInt8](NPYArray(int64s: layout.rows.map(Int64.init)).encoded()) }

    /// Exact body size for the binary formats (nil: JSON, sent chunked).
    var byteCount: Int? {
        switch format {
        case .json: return nil
        case .npy: return npyHeader.count + vectorsBytes
        case .npz:
            let names = ["ids.npy", "rows.npy", "vectors.npy"].map(\.utf8.count)
            let payloads = [idsMember.count, rowsMember.count, npyHeader.count + vectorsBytes]
            let local = zip(names, payloads).reduce(0) { $0 + 30 + $1.0 + $1.1 } + 16  // + data descriptor
            let central = names.reduce(0) { $0 + 46 + $1 }
            return local + central + 22
        }
    }

    /// Whether the `.npz` fits the 32-bit ZIP sizes this writer uses.
    var fitsZip32: Bool { (byteCount ?? 0) < Int(UInt32.max) }

    private mutating func head() throws -> [UInt8] {
        switch format {
        case .npy:
            return npyHeader
        case .json:
            var out = "{\"dim\":\(space.dim),\"ids\":[" + layout.ids.map(String.init).joined(separator: ",") + "]"
            out += ",\"space\":" + JSONValue.string(space.name).jsonString()
            if layout.truncated.contains(true) { out += ",\"truncated\":[" + layout.truncated.map(String.init).joined(separator: ",") + "]" }
            return Array((out + ",\"vectors\":[").utf8)
        case .npz:
            var out = [UInt8]()
            for (name, member) in [("ids.npy", idsMember), ("rows.npy", rowsMember)] {
                out += try ZipRecord.local(name: name, crc: CRC32.checksum(Data(member)), size: member.count, deferred: false)
                out += member
            }
            out += try ZipRecord.local(name: "vectors.npy", crc: 0, size: 0, deferred: true)
            let header = npyHeader
            crc.update(header)
            return out + header
        }
    }

    private mutating func encode(_ batch: VectorBatch, first: Bool) -> [UInt8] {
        switch format {
        case .npy, .npz:
            var out = [UInt8](repeating: 0, count: batch.values.count * 4)
            out.withUnsafeMutableBytes { dst in
                batch.values.withUnsafeBytes { src in
                    for i in 0..<batch.values.count {
                        dst.storeBytes(of: src.load(fromByteOffset: i * 4, as: UInt32.self).littleEndian, toByteOffset: i * 4, as: UInt32.self)
                    }
                }
            }
            if format == .npz { crc.update(out) }
            return out
        case .json:
            var out = ""
            out.reserveCapacity(batch.values.count * 12)
            var offset = 0
            for (i, r) in batch.rows.enumerated() {
                if !(first && i == 0) { out += "," }
                let tokens = space.kind.isTokens
                if tokens { out += "[" }
                for row in 0..<r {
                    if row > 0 { out += "," }
                    out += "["
                    for j in 0..<space.dim {
                        if j > 0 { out += "," }
                        out += Self.number(batch.values[offset + row * space.dim + j])
                    }
                    out += "]"
                }
                if tokens { out += "]" }
                offset += r * space.dim
            }
            return Array(out.utf8)
        }
    }

    private func tail() throws -> [UInt8] {
        switch format {
        case .npy: return []
        case .json: return Array("]}".utf8)
        case .npz:
            let members: [(String, [UInt8]?)] = [("ids.npy", idsMember), ("rows.npy", rowsMember), ("vectors.npy", nil)]
            let vectorsSize = npyHeader.count + vectorsBytes
            let vectorsCRC = crc.value
            var out = try ZipRecord.dataDescriptor(crc: vectorsCRC, size: vectorsSize)
            var central = [UInt8](), offset = 0
            for (name, member) in members {
                let size = member?.count ?? vectorsSize
                let memberCRC = member.map { CRC32.checksum(Data($0)) } ?? vectorsCRC
                central += try ZipRecord.central(name: name, crc: memberCRC, size: size, offset: offset, deferred: member == nil)
                offset += 30 + name.utf8.count + size
            }
            offset += 16
            out += central
            out += try ZipRecord.end(entries: members.count, centralSize: central.count, centralOffset: offset)
            return out
        }
    }

    /// A finite Float as JSON, the way `JSONEncoder` writes it (`1` not `1.0`).
    static func number(_ v: Float) -> String {
        let s = v.description
        return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }
}
