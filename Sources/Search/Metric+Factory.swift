import CFaiss
import Core
import Foundation

/// FAISS's name for a `Metric` (cosine is inner product on normalised vectors).
extension Metric {
    var faissCode: Int32 {
        self == .l2 ? Int32(CFAISS_METRIC_L2) : Int32(CFAISS_METRIC_INNER_PRODUCT)
    }
}

/// A validated FAISS factory string: `Flat`, `HNSW{M}` (or `HNSW{M},Flat`), `IVF{n},Flat`,
/// `IVF{n},PQ{m}` (also `PQ{m}x{bits}`). FAISS may still reject a well-formed string for a given
/// dimension (e.g. PQ{m} needs m to divide it); that surfaces as `SearchError.faissRejected`.
/// An HNSW factory may end in `,efC{n}` (ours, not FAISS's): the graph's efConstruction, 1...4096;
/// without it the shim uses max(40, 2M).
///
///     let f = try IndexFactory("IVF256,PQ16")   // f.kind == .ivfPQ(nlist: 256, m: 16, bits: 8)
///     let h = IndexFactory.hnsw32               // "HNSW32"
///     let g = try IndexFactory("HNSW32,efC48")  // g.efConstruction == 48
public struct IndexFactory: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case flat
        case hnsw(m: Int)
        case ivfFlat(nlist: Int)
        case ivfPQ(nlist: Int, m: Int, bits: Int)
    }

    /// The string handed to the shim (which strips `,efC{n}` before faiss::index_factory).
    public let string: String
    public let kind: Kind
    /// The HNSW graph's efConstruction when the string names one.
    public let efConstruction: Int?

    public static let flat = try! IndexFactory("Flat")
    public static let hnsw32 = try! IndexFactory("HNSW32")

    public init(_ string: String) throws {
        let s = string.trimmingCharacters(in: .whitespaces)
        var parts = s.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        func number(_ text: Substring, _ what: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let v = Int(text), range.contains(v) else {
                throw SearchError.invalidFactory(string, reason: "\(what) must be an integer in \(range)")
            }
            return v
        }
        let reason = "use Flat, HNSW{M}, IVF{n},Flat or IVF{n},PQ{m}"
        if parts.count > 1, let last = parts.last, last.hasPrefix("efC") {
            guard parts[0].hasPrefix("HNSW") else {
                throw SearchError.invalidFactory(string, reason: "efC{n} applies to HNSW{M} factories only")
            }
            efConstruction = try number(last.dropFirst(3), "efC", 1...4096)
            parts.removeLast()
        } else {
            efConstruction = nil
        }
        if parts == ["Flat"] {
            kind = .flat
        } else if let first = parts.first, first.hasPrefix("HNSW"), parts.count == 1 || (parts.count == 2 && parts[1] == "Flat") {
            kind = .hnsw(m: try number(first.dropFirst(4), "HNSW M", 4...128))
        } else if parts.count == 2, parts[0].hasPrefix("IVF") {
            let nlist = try number(parts[0].dropFirst(3), "IVF list count", 1...1_000_000)
            if parts[1] == "Flat" {
                kind = .ivfFlat(nlist: nlist)
            } else if parts[1].hasPrefix("PQ") {
                let pq = parts[1].dropFirst(2).split(separator: "x", omittingEmptySubsequences: false)
                guard pq.count == 1 || pq.count == 2 else { throw SearchError.invalidFactory(string, reason: reason) }
                let m = try number(pq[0], "PQ sub-quantizer count", 1...4096)
                let bits = pq.count == 2 ? try number(pq[1], "PQ bits", 1...16) : 8
                kind = .ivfPQ(nlist: nlist, m: m, bits: bits)
            } else {
                throw SearchError.invalidFactory(string, reason: reason)
            }
        } else {
            throw SearchError.invalidFactory(string, reason: reason)
        }
        self.string = s
    }

    public var description: String { string }

    /// Training vectors this index wants (0 when it needs no training).
    public var trainingSampleSize: Int {
        switch kind {
        case .flat, .hnsw: return 0
        case let .ivfFlat(nlist): return min(max(nlist * 64, 4096), 200_000)
        case let .ivfPQ(nlist, _, bits): return min(max(nlist * 64, (1 << bits) * 64, 16_384), 200_000)
        }
    }

    /// The fewest training vectors FAISS accepts.
    public var minimumTrainingVectors: Int {
        switch kind {
        case .flat, .hnsw: return 0
        case let .ivfFlat(nlist): return nlist
        case let .ivfPQ(nlist, _, bits): return max(nlist, 1 << bits)
        }
    }

    public init(from decoder: Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(string)
    }
}

