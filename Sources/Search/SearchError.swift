import Foundation

/// Everything the Search module can throw. Bad input (`isBadInput`, by its `category`) maps to a 4xx answer;
/// the rest are server-side conditions (corrupt file, I/O) the caller usually recovers from
/// by rebuilding the index from the store.
///
///     do { _ = try index.search(queries: q, k: 5000) }
///     catch let e as SearchError where e.isBadInput { print(e) } // "k must be in 1...1000, got 5000"
public enum SearchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A vector or query matrix does not have `expected` columns.
    case dimensionMismatch(expected: Int, got: Int)
    /// `ids.count` rows were announced but the flat buffer holds another number of floats.
    case shapeMismatch(rows: Int, dim: Int, floats: Int)
    /// A NaN or infinity at (row, column).
    case nonFinite(row: Int, column: Int)
    /// `k` outside 1...1000.
    case kOutOfRange(Int)
    /// A search knob (nprobe, efSearch) outside its range, or a bad filter shape.
    case invalidParameter(String)
    /// The factory string is not one of Flat, HNSW{M}, IVF{n},Flat, IVF{n},PQ{m}.
    case invalidFactory(String, reason: String)
    /// FAISS (or the shim) rejected the call; the index is unchanged.
    case faissRejected(String)
    /// An IVF index needs at least `needed` training vectors.
    case notEnoughTrainingVectors(needed: Int, got: Int)
    /// The index must be trained before vectors are added or searched.
    case notTrained(factory: String)
    /// No index is loaded for this space.
    case unknownSpace(String)
    /// A rebuild of this space is already running.
    case rebuildInProgress(String)
    /// The index file is missing.
    case missingIndexFile(path: String)
    /// The index file is truncated, has flipped bytes or is not an index file.
    case corruptIndexFile(path: String, reason: String)
    /// The index file is intact but stamped with another generation than the store's.
    case staleIndexFile(path: String, found: UInt64, expected: UInt64)
    /// Reading or writing a file failed.
    case io(path: String, message: String)
    /// Out of memory inside FAISS.
    case outOfMemory

    /// True when the caller sent something invalid (answer 4xx; nothing changed): see `category`.
    public var isBadInput: Bool { category.isCallerFault }

    public var description: String {
        switch self {
        case let .dimensionMismatch(expected, got):
            return "vectors must have \(expected) dimensions, got \(got)"
        case let .shapeMismatch(rows, dim, floats):
            return "\(rows) vectors of \(dim) dimensions need \(rows * dim) floats, got \(floats)"
        case let .nonFinite(row, column):
            return "vector \(row) has a NaN or infinite value at position \(column)"
        case let .kOutOfRange(k):
            return "k must be in 1...\(VectorIndex.maxK), got \(k)"
        case let .invalidParameter(message):
            return message
        case let .invalidFactory(factory, reason):
            return "index factory \"\(factory)\" rejected: \(reason)"
        case let .faissRejected(message):
            return "FAISS rejected the request: \(message)"
        case let .notEnoughTrainingVectors(needed, got):
            return "this index type needs at least \(needed) training vectors, the space has \(got)"
        case let .notTrained(factory):
            return "index \"\(factory)\" must be trained first"
        case let .unknownSpace(name):
            return "space '\(name)' has no vectors to search"
        case let .rebuildInProgress(name):
            return "the index of space \"\(name)\" is being rebuilt; try again when it finishes"
        case let .missingIndexFile(path):
            return "index file \(path) does not exist"
        case let .corruptIndexFile(path, reason):
            return "index file \(path) is corrupt: \(reason)"
        case let .staleIndexFile(path, found, expected):
            return "index file \(path) has generation \(found), the store is at \(expected)"
        case let .io(path, message):
            return "I/O error on \(path): \(message)"
        case .outOfMemory:
            return "out of memory in FAISS"
        }
    }
}
