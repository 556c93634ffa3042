import CFaiss
import Core
import Foundation

/// One FAISS index over `dim`-dimensional vectors keyed by 64-bit ids (function ids).
/// Swift owns the native handle (freed in `deinit`). All methods are thread-safe: searches run
/// concurrently (shared lock in the shim), writes are exclusive. Calls block the calling thread;
/// from async code go through `IndexCatalog` (or `SearchExecutor`) to stay off the cooperative pool.
///
///     let index = try VectorIndex(factory: .flat, metric: .cosine, dim: 384)
///     try index.add(ids: [7, 8], vectors: v)            // v.count == 2 * 384; re-adding an id replaces it
///     let hits = try index.search(queries: q, k: 10)     // [[Hit]], one list per query row
///     try index.remove(ids: [8])
// Safe: the FAISS handle is only touched through the shim, whose shared/exclusive lock serialises writes.
public final class VectorIndex: @unchecked Sendable {
    /// Largest k a search accepts.
    public static let maxK = 1000

    /// Process-wide FAISS settings, applied once before the first index is made: exact search
    /// uses BLAS sgemm from the first query (FAISS's own per-query scan is ~1.5× slower on
    /// Debian's build, which lacks AVX2 kernels).
    static let configureFaiss: Void = { _ = cfaiss_set_blas_threshold(1) }()

    /// The FAISS version linked in (for /healthz and logs).
    public static var faissVersion: String { String(cString: cfaiss_version()) }

    /// Distances HNSW graphs have computed in this process (build and search): benchmarks count
    /// work with it where a shared machine makes seconds unreliable.
    public static var hnswDistanceCount: UInt64 { cfaiss_hnsw_distance_count() }
    /// The same, counted on the calling thread only (one-thread searches run there).
    public static var hnswDistanceCountOnThisThread: UInt64 { cfaiss_hnsw_thread_distance_count() }

    /// Whether one-thread HNSW searches use the shim's prefetching search (the default) or FAISS's
    /// own; both give the same results. Process-wide, for benchmarks and tests; returns the old value.
    @discardableResult
    public static func useOwnHNSWSearch(_ on: Bool) -> Bool { cfaiss_hnsw_own_search(on ? 1 : 0) != 0 }

    let handle: UnsafeMutableRawPointer
    public let dim: Int
    public let metric: Metric
    public let factory: IndexFactory

    /// Builds an empty index. Throws `invalidFactory` / `faissRejected` (e.g. PQ{m} with m not
    /// dividing `dim`) and never leaves a half-made index behind.
    public init(factory: IndexFactory, metric: Metric = .cosine, dim: Int) throws {
        _ = Self.configureFaiss
        guard dim > 0, dim <= 65_536 else {
            throw SearchError.invalidParameter("dimension must be in 1...65536, got \(dim)")
        }
        var out: UnsafeMutableRawPointer?
        try Shim.call { err, len in cfaiss_create(factory.string, Int32(dim), metric.faissCode, &out, err, len) }
        guard let out else { throw SearchError.faissRejected("no index returned") }
        self.handle = out
        self.dim = dim
        self.metric = metric
        self.factory = factory
    }

    /// Adopts a handle from `cfaiss_deserialize`.
    init(adopting handle: UnsafeMutableRawPointer, factory: IndexFactory, metric: Metric) {
        self.handle = handle
        self.dim = Int(cfaiss_dim(handle))
        self.metric = metric
        self.factory = factory
    }

    deinit { cfaiss_free(handle) }

    /// Live (searchable) vectors.
    public var count: Int { Int(cfaiss_live_count(handle)) }
    /// HNSW positions deleted but not compacted yet.
    public var tombstones: Int { Int(cfaiss_dead_count(handle)) }
    public var isTrained: Bool { cfaiss_is_trained(handle) != 0 }
    public var needsTraining: Bool { factory.minimumTrainingVectors > 0 }
    /// Index defaults of the search knobs (nil where the index type has none).
    public var defaultNprobe: Int? { let v = cfaiss_default_nprobe(handle); return v > 0 ? Int(v) : nil }
    public var defaultEfSearch: Int? { let v = cfaiss_default_ef_search(handle); return v > 0 ? Int(v) : nil }
    /// The HNSW graph's efConstruction (nil for other kinds): the factory's `,efC{n}` or the default.
    public var efConstruction: Int? { let v = cfaiss_ef_construction(handle); return v > 0 ? Int(v) : nil }

    public func contains(_ id: Int64) -> Bool { cfaiss_contains(handle, id) != 0 }

    /// Trains an IVF index on `vectors` (row-major, count = n * dim); no-op for Flat / HNSW.
    public func train(_ vectors: [Float]) throws {
        let n = try checkMatrix(vectors, rows: nil)
        guard !isTrained else { return }
        guard n >= factory.minimumTrainingVectors else {
            throw SearchError.notEnoughTrainingVectors(needed: factory.minimumTrainingVectors, got: n)
        }
        let v = prepared(vectors)
        try v.withUnsafeBufferPointer { p in
            try Shim.call { err, len in cfaiss_train(handle, Int64(n), p.baseAddress, Shim.writerThreads, err, len) }
        }
    }

    /// Adds vectors under `ids` (row-major, `vectors.count == ids.count * dim`). An id already in
    /// the index is replaced (upsert). Ids must be unique within one call.
    public func add(ids: [Int64], vectors: [Float]) throws {
        _ = try checkMatrix(vectors, rows: ids.count)
        guard !ids.isEmpty else { return }
        guard isTrained else { throw SearchError.notTrained(factory: factory.string) }
        let v = prepared(vectors)
        try ids.withUnsafeBufferPointer { ip in
            try v.withUnsafeBufferPointer { vp in
                try Shim.call { err, len in
                    cfaiss_add(handle, Int64(ids.count), ip.baseAddress, vp.baseAddress, Shim.writerThreads, err, len)
                }
            }
        }
    }

    /// Removes ids (absent ones are ignored); returns how many were present.
    @discardableResult
    public func remove(ids: [Int64]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        var removed: Int64 = 0
        try ids.withUnsafeBufferPointer { ip in
            try Shim.call { err, len in
                cfaiss_remove(handle, Int64(ids.count), ip.baseAddress, &removed, Shim.writerThreads, err, len)
            }
        }
        return Int(removed)
    }

    /// The stored vector of `id` (normalised when the metric is cosine). Flat and HNSW only.
    public func vector(for id: Int64) throws -> [Float] {
        var out = [Float](repeating: 0, count: dim)
        try out.withUnsafeMutableBufferPointer { p in
            try Shim.call { err, len in cfaiss_reconstruct(handle, id, p.baseAddress, err, len) }
        }
        return out
    }

    /// k nearest stored vectors for each query row (row-major, `queries.count == nq * dim`).
    /// A row can hold fewer than k hits (small index, restrictive filter, IVF lists exhausted).
    /// Throws on wrong dimension, NaN/Inf, k outside 1...1000, bad knobs or filter shape.
    public func search(queries: [Float], k: Int, params: SearchParams = SearchParams(),
                       filter: SearchFilter = .none) throws -> [[Hit]] {
        guard (1...Self.maxK).contains(k) else { throw SearchError.kOutOfRange(k) }
        guard !queries.isEmpty else { return [] }
        let nq = try checkMatrix(queries, rows: nil)
        if let p = params.nprobe, !(1...1_000_000).contains(p) {
            throw SearchError.invalidParameter("nprobe must be in 1...1000000, got \(p)")
        }
        if let e = params.efSearch, !(1...100_000).contains(e) {
            throw SearchError.invalidParameter("efSearch must be in 1...100000, got \(e)")
        }
        // Shared exclusion sets flattened once (CSR), and per query the sets it names.
        var setIDs: [Int64] = [], setOffsets: [Int64] = [0], refs: [Int64] = [], refOffsets: [Int64] = []
        if let ex = filter.perQuery {
            guard ex.queryCount == nq else {
                throw SearchError.invalidParameter("per-query exclusions describe \(ex.queryCount) queries for \(nq)")
            }
            if let reason = ex.invalidReference { throw SearchError.invalidParameter(reason) }
            setIDs.reserveCapacity(ex.sets.reduce(0) { $0 + $1.count })
            for set in ex.sets {
                setIDs.append(contentsOf: set)
                setOffsets.append(Int64(setIDs.count))
            }
            refOffsets = [0]
            refOffsets.reserveCapacity(nq + 1)
            for list in ex.setsOfQuery {
                refs.append(contentsOf: list.map(Int64.init))
                refOffsets.append(Int64(refs.count))
            }
        }
        let hasPerQuery = filter.perQuery != nil
        let nsets = Int64(setOffsets.count - 1)
        let q = prepared(queries)
        var distances = [Float](repeating: 0, count: nq * k)
        var labels = [Int64](repeating: -1, count: nq * k)
        let allow = filter.allowOnly ?? []
        let threads = Int32(max(1, params.threads ?? max(1, SearchExecutor.defaultOmpThreads)))
        let hasAllow: Int32 = filter.allowOnly == nil ? 0 : 1
        let nprobe = Int32(params.nprobe ?? 0), ef = Int32(params.efSearch ?? 0)
        try q.withUnsafeBufferPointer { qp in
            try allow.withUnsafeBufferPointer { ap in
                try filter.exclude.withUnsafeBufferPointer { ep in
                    try setIDs.withUnsafeBufferPointer { sp in
                        try setOffsets.withUnsafeBufferPointer { sop in
                            try refs.withUnsafeBufferPointer { rp in
                                try refOffsets.withUnsafeBufferPointer { rop in
                                    try distances.withUnsafeMutableBufferPointer { dp in
                                        try labels.withUnsafeMutableBufferPointer { lp in
                                            try Shim.call { err, len in
                                                cfaiss_search(
                                                    handle, Int64(nq), qp.baseAddress, Int64(k), nprobe, ef,
                                                    ap.baseAddress, Int64(allow.count), hasAllow,
                                                    ep.baseAddress, Int64(filter.exclude.count),
                                                    sp.baseAddress, sop.baseAddress, nsets,
                                                    rp.baseAddress, hasPerQuery ? rop.baseAddress : nil,
                                                    threads, dp.baseAddress, lp.baseAddress, err, len)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var result: [[Hit]] = []
        result.reserveCapacity(nq)
        for i in 0..<nq {
            var row: [Hit] = []
            row.reserveCapacity(k)
            for j in 0..<k where labels[i * k + j] >= 0 {
                row.append(Hit(id: labels[i * k + j], score: distances[i * k + j]))
            }
            result.append(row)
        }
        return result
    }

    // MARK: - Validation

    /// Checks shape and finiteness; returns the row count.
    func checkMatrix(_ v: [Float], rows: Int?) throws -> Int {
        try Self.validate(v, rows: rows, dim: dim)
    }

    /// Checks that `v` holds `rows` (or any whole number of) finite `dim`-vectors; returns the rows.
    @discardableResult
    public static func validate(_ v: [Float], rows: Int?, dim: Int) throws -> Int {
        if let rows {
            guard v.count == rows * dim else {
                if rows > 0, v.count % rows == 0 { throw SearchError.dimensionMismatch(expected: dim, got: v.count / rows) }
                throw SearchError.shapeMismatch(rows: rows, dim: dim, floats: v.count)
            }
        } else if v.count % dim != 0 {
            throw SearchError.dimensionMismatch(expected: dim, got: v.count)
        }
        try v.withUnsafeBufferPointer { p in
            for i in 0..<p.count where !p[i].isFinite {
                throw SearchError.nonFinite(row: i / dim, column: i % dim)
            }
        }
        return v.count / dim
    }

    /// Rows as FAISS should see them: L2-normalised for cosine (zero rows stay zero).
    func prepared(_ v: [Float]) -> [Float] {
        guard metric == .cosine else { return v }
        var out = v
        let d = dim
        out.withUnsafeMutableBufferPointer { p in
            for r in 0..<(p.count / d) {
                var s: Float = 0
                for j in 0..<d { s += p[r * d + j] * p[r * d + j] }
                guard s > 0 else { continue }
                let inv = 1 / s.squareRoot()
                for j in 0..<d { p[r * d + j] *= inv }
            }
        }
        return out
    }
}

/// Calls into the C shim and turns its error code + message into `SearchError`.
enum Shim {
    static let errorCapacity = 1024

    /// OpenMP threads for writes (train / add / remove): every core, since writes are exclusive
    /// (env `SEARCH_WRITER_THREADS` overrides).
    static let writerThreads: Int32 =
        ProcessInfo.processInfo.environment["SEARCH_WRITER_THREADS"].flatMap { Int32($0) }.map { max(1, $0) }
        ?? Int32(max(1, ProcessInfo.processInfo.activeProcessorCount))

    static func call(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var buffer = [CChar](repeating: 0, count: errorCapacity)
        let code = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, errorCapacity) }
        guard code != 0 else { return }
        let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        switch Int(code) {
        case Int(CFAISS_ENOMEM): throw SearchError.outOfMemory
        case Int(CFAISS_ECORRUPT): throw SearchError.corruptIndexFile(path: "", reason: message)
        default: throw SearchError.faissRejected(Shim.tidy(message))
        }
    }

    /// FAISS messages read "Error in F at file.cpp:123: reason"; keep the reason.
    static func tidy(_ message: String) -> String {
        guard message.hasPrefix("Error in "), let r = message.range(of: ": ", options: .backwards) else { return message }
        // Keep everything after the "file:line: " prefix.
        if let at = message.range(of: " at "), let colon = message[at.upperBound...].range(of: ": ") {
            return String(message[colon.upperBound...])
        }
        return String(message[r.upperBound...])
    }
}
