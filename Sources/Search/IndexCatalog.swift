import Core
import Foundation

/// What the catalog knows about one space's index.
public struct IndexInfo: Sendable, Equatable {
    public var space: String
    public var factory: IndexFactory
    public var metric: Metric
    public var dim: Int
    public var count: Int
    /// Store write generation the live index reflects.
    public var generation: UInt64
    public var tombstones: Int
    public var rebuilding: Bool
    /// The knob values a search uses when it names none: the calibrated choice for the space's
    /// target recall when the index has a curve, else FAISS's defaults.
    public var defaultNprobe: Int?
    public var defaultEfSearch: Int?
    /// The HNSW graph's efConstruction (nil for other kinds).
    public var efConstruction: Int? = nil
    /// Target recall and the measured recall curve (curve nil for Flat or before measurement).
    public var calibration: RecallCalibration = RecallCalibration()
    /// A (re)measurement of the curve is running.
    public var calibrating = false
}

/// One FAISS index per space, kept in step with the store.
/// - Searches run concurrently on the executor's `ThreadPool` (off the cooperative pool).
/// - Writes (add / remove / save / swap) of one space run in order on that space's serial
///   `ThreadPool.Lane` over the same pool: FIFO like a serial queue, but no thread per space and
///   no thread parked waiting for another write's lock.
/// - `rebuild` builds a new index in the background while the old one keeps serving, records
///   writes that arrive meanwhile, replays them and swaps atomically; if FAISS rejects the new
///   factory, nothing changes.
/// - Index files live in `directory` (one `<space>.faissidx` per space, atomic writes).
///
///     let catalog = IndexCatalog(directory: dataDir.appendingPathComponent("indexes"))
///     _ = try await catalog.ensureFresh(space: "minilm.L6.sig_mean", storeGeneration: gen, dim: 384,
///                                       source: { store.vectorBatches(space) })
///     try await catalog.add(space: "minilm.L6.sig_mean", ids: ids, vectors: v, generation: gen + 1)
///     let hits = try await catalog.search(space: "minilm.L6.sig_mean", queries: q, k: 10)
public final class IndexCatalog: Sendable {
    public let directory: URL
    public let executor: SearchExecutor
    let log: @Sendable (String) -> Void
    /// Index builds (training, bulk adds, loading) on a thread of their own: seconds to minutes of CPU
    /// that must not hold a search thread, nor a thread of Dispatch's pool.
    let buildPool = ThreadPool.serial(name: "swejepa.search.build")
    private let slots = Mutex<[String: Slot]>([:])

    /// A write recorded while a rebuild runs, replayed onto the new index before the swap.
    enum JournalEntry: Sendable {
        case add(ids: [Int64], vectors: [Float])
        case remove(ids: [Int64])
    }

    /// One space: its write lane and, behind a `Mutex`, its live index and rebuild state.
    final class Slot: Sendable {
        struct State {
            var index: VectorIndex?
            var generation: UInt64 = 0
            var journal: [JournalEntry]?
            var rebuildDim: Int?
            var rebuilding = false
            var calibration = RecallCalibration()
            var calibrating = false
        }
        let name: String
        let lane: ThreadPool.Lane
        let state = Mutex(State())

        init(name: String, pool: ThreadPool) {
            self.name = name
            lane = ThreadPool.Lane(on: pool)
        }
    }

    public init(directory: URL, executor: SearchExecutor = .shared, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.directory = directory
        self.executor = executor
        self.log = log
    }

    // MARK: - Lookup

    /// The index file of a space (names are percent-encoded into a safe file name).
    public func fileURL(for space: String) -> URL {
        let safe = space.addingPercentEncoding(withAllowedCharacters: .init(charactersIn:
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")) ?? space
        return directory.appendingPathComponent("\(safe).faissidx")
    }

    func slot(_ space: String, create: Bool = false) -> Slot? {
        let pool = executor.pool
        return slots.withLock { slots in
            if let s = slots[space] { return s }
            guard create else { return nil }
            let s = Slot(name: space, pool: pool)
            slots[space] = s
            return s
        }
    }

    /// The live index of a space (nil if none). Holding it keeps it alive across a swap.
    public func index(for space: String) -> VectorIndex? {
        slot(space).flatMap { s in s.state.withLock { $0.index } }
    }

    /// Facts about the live index (nil when the space has none yet).
    public func info(space: String) -> IndexInfo? {
        guard let s = slot(space) else { return nil }
        let (index, generation, rebuilding, calibration, calibrating) = s.state.withLock {
            ($0.index, $0.generation, $0.rebuilding, $0.calibration, $0.calibrating)
        }
        guard let index else { return nil }
        let chosen = Self.calibrated(SearchParams(), index: index, calibration: calibration)
        return IndexInfo(space: space, factory: index.factory, metric: index.metric, dim: index.dim,
                         count: index.count, generation: generation, tombstones: index.tombstones,
                         rebuilding: rebuilding, defaultNprobe: chosen.nprobe ?? index.defaultNprobe,
                         defaultEfSearch: chosen.efSearch ?? index.defaultEfSearch,
                         efConstruction: index.efConstruction,
                         calibration: calibration, calibrating: calibrating)
    }

    // MARK: - Create, install, drop

    /// Creates an empty index for a new space (factories that need training cannot start empty:
    /// use `rebuild` once the space has vectors). Replaces nothing if the space already has one.
    @discardableResult
    public func create(space: String, factory: IndexFactory = .flat, metric: Metric = .cosine, dim: Int,
                       generation: UInt64 = 0) throws -> Bool {
        if factory.minimumTrainingVectors > 0 {
            throw SearchError.notEnoughTrainingVectors(needed: factory.minimumTrainingVectors, got: 0)
        }
        let index = try VectorIndex(factory: factory, metric: metric, dim: dim)
        let s = slot(space, create: true)!
        return s.state.withLock { s in
            guard s.index == nil, !s.rebuilding else { return false }
            s.index = index
            s.generation = generation
            return true
        }
    }

    /// Installs a ready index (e.g. built by hand), replacing the current one.
    public func install(space: String, index: VectorIndex, generation: UInt64) {
        let s = slot(space, create: true)!
        s.state.withLock { s in
            s.index = index
            s.generation = generation
        }
    }

    /// Forgets a space's live index after an update failed (its file stays, stamped with an older
    /// generation), so the next `ensureFresh` rebuilds it from the store instead of trusting it.
    public func markStale(space: String) {
        guard let s = slot(space) else { return }
        s.state.withLock { s in
            guard !s.rebuilding else { return }
            s.index = nil
            s.generation = 0
        }
    }

    /// Forgets a space; with `deleteFile`, also removes its index file.
    public func drop(space: String, deleteFile: Bool = true) {
        slots.withLock { $0[space] = nil }
        if deleteFile {
            try? FileManager.default.removeItem(at: fileURL(for: space))
            try? FileManager.default.removeItem(at: calibrationURL(for: space))
        }
    }

    // MARK: - Search

    /// k-NN search on the space's live index, run on the executor's threads. Without `nprobe` /
    /// `efSearch`, the knob value comes from the index's recall curve for `params.targetRecall`
    /// (or the space's target recall).
    public func search(space: String, queries: [Float], k: Int, params: SearchParams = SearchParams(),
                       filter: SearchFilter = .none) async throws -> [[Hit]] {
        guard let s = slot(space) else { throw SearchError.unknownSpace(space) }
        try params.validateTarget()
        let (index, rebuilding, calibration) = s.state.withLock { ($0.index, $0.rebuilding, $0.calibration) }
        guard let index else {
            throw rebuilding ? SearchError.rebuildInProgress(space) : SearchError.unknownSpace(space)
        }
        guard (1...VectorIndex.maxK).contains(k) else { throw SearchError.kOutOfRange(k) }
        let resolved = Self.calibrated(params, index: index, calibration: calibration)
        return try await executor.run { threads in
            var p = resolved
            if p.threads == nil { p.threads = threads }
            return try index.search(queries: queries, k: k, params: p, filter: filter)
        }
    }

    // MARK: - Writes

    /// Adds or replaces vectors; `generation` (if given) becomes the space's generation.
    public func add(space: String, ids: [Int64], vectors: [Float], generation: UInt64? = nil) async throws {
        try await write(space: space, generation: generation, entry: .add(ids: ids, vectors: vectors)) { index in
            try index.add(ids: ids, vectors: vectors)
            return ids.count
        }
    }

    /// Removes ids; returns how many were in the live index.
    @discardableResult
    public func remove(space: String, ids: [Int64], generation: UInt64? = nil) async throws -> Int {
        try await write(space: space, generation: generation, entry: .remove(ids: ids)) { index in
            try index.remove(ids: ids)
        }
    }

    /// Writes the space's index file (atomic) stamped with its current generation.
    @discardableResult
    public func save(space: String) async throws -> URL {
        guard let s = slot(space) else { throw SearchError.unknownSpace(space) }
        let url = fileURL(for: space)
        try await s.lane.run {
            let (index, generation) = s.state.withLock { ($0.index, $0.generation) }
            guard let index else { throw SearchError.unknownSpace(space) }
            try index.write(to: url, generation: generation)
        }
        return url
    }

    @discardableResult
    func write(space: String, generation: UInt64?, entry: JournalEntry?,
               apply: @escaping @Sendable (VectorIndex) throws -> Int) async throws -> Int {
        guard let s = slot(space) else { throw SearchError.unknownSpace(space) }
        return try await s.lane.run {
            let (index, journaling, dim) = s.state.withLock { ($0.index, $0.journal != nil, $0.rebuildDim) }
            guard index != nil || journaling else { throw SearchError.unknownSpace(space) }
            var result = 0
            if let index {
                result = try apply(index)
            } else if let dim, case let .add(ids, vectors)? = entry {
                try VectorIndex.validate(vectors, rows: ids.count, dim: dim)
            }
            s.state.withLock { s in
                if let entry, s.journal != nil { s.journal!.append(entry) }
                if let generation { s.generation = generation }
            }
            return result
        }
    }
}
