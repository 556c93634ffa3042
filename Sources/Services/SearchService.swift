import Core
import Foundation
import Search
import Store

/// Keeps one FAISS index per vector space in step with the store and answers searches.
///
/// The store is the truth: an index is loaded from its file only when the file is intact and stamped
/// with the space's current write generation; otherwise it is rebuilt from the stored vectors.
/// Writes through the API or jobs update the live index incrementally (and bump its generation);
/// anything else that moved the generation (cascading deletes, another process) is caught before the
/// next search: the index applies the store's record of what changed since its generation
/// (`vectorChanges`), or is rebuilt when that record does not reach back far enough.
///
/// ```swift
/// let search = SearchService(store: store, dataDirectory: dir)
/// await search.warmUp()                       // at start: load or rebuild every space's index
/// let hits = try await search.search(space: "m.L3.body_mean", queries: q, k: 10)
/// ```
public final class SearchService: Sendable {
    public let store: any StoreBackend
    public let catalog: IndexCatalog
    /// The data directory: index files under `indexes/`, the teacher models text queries run (`models/`).
    public let dataDirectory: URL
    let log: @Sendable (String) -> Void
    /// Spaces whose live index changed since it was last saved, and the background saver.
    private struct SaveState {
        var dirty = Set<String>()
        var saver: Task<Void, Never>?
        var stopped = false
    }
    private let saving = Mutex(SaveState())

    public init(store: any StoreBackend, dataDirectory: URL, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.store = store
        self.log = log
        self.dataDirectory = dataDirectory
        catalog = IndexCatalog(directory: dataDirectory.appendingPathComponent("indexes"), log: log)
    }

    /// Spaces with one vector per function can be indexed; token spaces cannot.
    static func indexable(_ s: SpaceRecord) -> Bool { !s.kind.isTokens }

    func source(_ space: String) -> IndexCatalog.VectorSource {
        let store = self.store
        return {
            AsyncThrowingStream { cont in
                let task = Task {
                    do {
                        let all = try await store.vectors(space: space, ids: nil)
                        let dim = all.ids.isEmpty ? 0 : all.values.count / all.ids.count
                        let chunk = 8_192
                        for start in stride(from: 0, to: all.ids.count, by: chunk) {
                            let end = min(all.ids.count, start + chunk)
                            cont.yield(VectorBatch(ids: Array(all.ids[start..<end]), values: Array(all.values[(start * dim)..<(end * dim)])))
                        }
                        cont.finish()
                    } catch { cont.finish(throwing: error) }
                }
                cont.onTermination = { _ in task.cancel() }
            }
        }
    }

    /// Loads or rebuilds the index of `space` so it matches the store's generation. A live index at
    /// the store's generation serves as it is, also while a rebuild runs beside it (the rebuild
    /// journals the writes it misses; a background re-measurement must not turn searches into 409s).
    @discardableResult
    public func ensureFresh(_ space: SpaceRecord) async throws -> Bool {
        guard Self.indexable(space) else { return false }
        if let info = catalog.info(space: space.name), info.generation == UInt64(space.generation),
           info.factory.string == space.indexFactory {
            return false
        }
        if try await catchUp(space) { return true }
        let factory = try IndexFactory(space.indexFactory)
        let started = Date()
        let result = try await catalog.ensureFresh(space: space.name, storeGeneration: UInt64(space.generation), factory: factory,
                                                   metric: space.metric, dim: space.dim, expectedCount: space.count,
                                                   source: source(space.name))
        if case .rebuilt(let reason, let count) = result {
            log(String(format: "index %@: rebuilt %d vectors (%@) in %.1f s", space.name, count, reason, Date().timeIntervalSince(started)))
        }
        return true
    }

    /// The space's index, brought up to date first (nil: no vectors yet, or a token space).
    public func indexInfo(_ space: SpaceRecord) async throws -> IndexInfo? {
        try await ensureFresh(space)
        refreshCalibrationIfNeeded(space.name)
        return catalog.info(space: space.name)
    }

    /// At start: every indexable space loaded or rebuilt (errors are logged; searches retry).
    public func warmUp() async {
        guard let spaces = try? await store.spaces() else { return }
        for s in spaces where Self.indexable(s) && s.count > 0 {
            do { try await ensureFresh(s) } catch { log("index \(s.name): \(error)") }
        }
        startSaver()
    }

    /// Called (by `VectorWriter`) after vectors were stored: the live index follows without a rebuild
    /// when it was current. The vectors are committed by then, so an index problem here never fails
    /// the write: it is logged and the space's index marked stale (loaded or rebuilt from the store
    /// before its next search, which reports the problem if it persists).
    func afterWrite(space name: String, batch: VectorBatch, generation: Int64) async {
        do {
            try await updateAfterWrite(space: name, batch: batch, generation: generation)
        } catch {
            log("index \(name): update after a committed write failed (\(error)); rebuilt before the next search")
            catalog.markStale(space: name)
        }
    }

    private func updateAfterWrite(space name: String, batch: VectorBatch, generation: Int64) async throws {
        guard let space = try await store.space(named: name), Self.indexable(space) else { return }
        let info = catalog.info(space: name)
        if let info, info.generation + 1 == UInt64(generation), !info.rebuilding {
            try await catalog.add(space: name, ids: batch.ids, vectors: batch.values, generation: UInt64(generation))
        } else if info == nil, space.count == batch.ids.count, IndexFactoryKind.trainsNothing(space.indexFactory) {
            try catalog.create(space: name, factory: try IndexFactory(space.indexFactory), metric: space.metric,
                               dim: space.dim, generation: UInt64(generation) - 1)
            try await catalog.add(space: name, ids: batch.ids, vectors: batch.values, generation: UInt64(generation))
        } else {
            // Out of step (or an index that must be trained): rebuild from the store.
            try await ensureFresh(space)
        }
        markDirty(name)
    }

    /// Checks a new space's index factory before the space is created: it must parse and FAISS must
    /// build an empty index of that shape (`SearchError.invalidFactory` / `.faissRejected`, a 422
    /// `invalid_index`, otherwise).
    ///
    /// ```swift
    /// try SearchService.checkFactory("IVF8,PQ5", metric: .cosine, dim: 384)   // throws: 5 does not divide 384
    /// ```
    public static func checkFactory(_ factory: String, metric: Metric, dim: Int) throws {
        _ = try VectorIndex(factory: try IndexFactory(factory), metric: metric, dim: dim)
    }

    /// Drops a space's index and file (`VectorWriter.deleteSpace`).
    func drop(space: String) { catalog.drop(space: space) }

    /// Rebuilds a space's index with another factory / metric; the old one serves until the swap.
    /// `targetRecall` (checked before anything changes) becomes the space's target once the new
    /// index is in; the default `nprobe` / `ef_search` follows from the curve measured at the build.
    public func reindex(space name: String, factory: String, metric: Metric, targetRecall: Double? = nil) async throws -> IndexInfo {
        try Self.checkTarget(targetRecall)
        guard let space = try await store.space(named: name) else {
            throw APIError.notFound("space '\(name)' does not exist", code: "unknown_space")
        }
        guard Self.indexable(space) else {
            throw APIError.unprocessable("'\(name)' is a token space; index a mean space", code: "not_indexable")  // the space's kind decides
        }
        let f = try IndexFactory(factory)
        let info = try await catalog.rebuild(space: name, factory: f, metric: metric, dim: space.dim,
                                             generation: UInt64(space.generation), expectedCount: space.count, source: source(name))
        try await store.setIndexFactory(space: name, factory: f.string, metric: metric)
        guard let targetRecall else { return info }
        try catalog.setTargetRecall(space: name, targetRecall)
        return catalog.info(space: name) ?? info
    }

    /// Searches `queries` (row-major, n × dim) in a space, bringing its index up to date first.
    public func search(space: SpaceRecord, queries: [Float], k: Int, params: SearchParams, filter: SearchFilter = .none) async throws -> [[Hit]] {
        try await ensureFresh(space)
        refreshCalibrationIfNeeded(space.name)
        return try await catalog.search(space: space.name, queries: queries, k: k, params: params, filter: filter)
    }

    // MARK: - Persistence

    func markDirty(_ space: String) {
        _ = saving.withLock { $0.dirty.insert(space) }
    }

    /// Saves changed indexes every few seconds (the store stays the truth: a lost save only means a rebuild).
    func startSaver() {
        saving.withLock { state in
            guard state.saver == nil, !state.stopped else { return }
            state.saver = Task.detached { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: 5_000_000_000)
                    await self?.saveDirty()
                }
            }
        }
    }

    private func takeDirty() -> Set<String> {
        saving.withLock { state in
            defer { state.dirty.removeAll() }
            return state.dirty
        }
    }

    public func saveDirty() async {
        for s in takeDirty() { _ = try? await catalog.save(space: s) }
    }

    /// Stops the background saver — waiting for a save it is in the middle of, so no temporary file is
    /// left behind — then saves every changed index, stamped with its generation.
    public func stop() async {
        let t: Task<Void, Never>? = saving.withLock { state in
            state.stopped = true
            defer { state.saver = nil }
            return state.saver
        }
        t?.cancel()
        await t?.value
        await saveDirty()
    }
}

enum IndexFactoryKind {
    /// Flat and HNSW start empty; IVF must be trained on data first.
    static func trainsNothing(_ factory: String) -> Bool {
        (try? IndexFactory(factory))?.minimumTrainingVectors == 0
    }
}

extension SearchService {
    /// After a function was deleted (its vectors went by cascade, each moving its space's generation
    /// by one): remove it from live indexes that were current; others rebuild before their next search.
    func afterDelete(function id: Int64) async {
        guard let spaces = try? await store.spaces() else { return }
        for s in spaces where Self.indexable(s) {
            guard let info = catalog.info(space: s.name), !info.rebuilding else { continue }
            if info.generation + 1 == UInt64(s.generation) {
                _ = try? await catalog.remove(space: s.name, ids: [id], generation: UInt64(s.generation))
                markDirty(s.name)
            }
        }
    }
}
