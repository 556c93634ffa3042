import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Progress of a rebuild, for logs and job status.
public struct RebuildProgress: Sendable, Equatable {
    public enum Phase: String, Sendable {
        case sampling, training, adding, replaying, saving, done
    }
    public var space: String
    public var phase: Phase
    /// Vectors handled so far in this phase.
    public var vectors: Int
    /// Expected total when the caller gave one.
    public var total: Int?
}

/// How `ensureFresh` brought a space's index up to date.
public enum Freshness: Sendable, Equatable {
    /// The file matched the store's generation and was loaded.
    case loaded(count: Int, generation: UInt64)
    /// The file was missing, unreadable, stale or of another kind; rebuilt from the store.
    case rebuilt(reason: String, count: Int)
}

extension IndexCatalog {
    /// A fresh stream of the space's stored vectors in batches (called once, or twice for index
    /// types that train: once to sample, once to add).
    public typealias VectorSource = @Sendable () -> AsyncThrowingStream<VectorBatch, any Error>

    /// Builds a new index from `source` while the current one keeps serving, then swaps it in.
    /// Writes arriving during the build go to the old index and a journal replayed onto the new
    /// one before the swap (adds are upserts, so overlap with the snapshot is harmless).
    /// If FAISS rejects the factory or training fails, the old index stays and this throws.
    /// `generation` is the store generation the source snapshot reflects; with `persist` the new
    /// index is written to its file. With `calibrate`, an approximate index is measured against exact
    /// search before the swap, with `RecallCurve.sampleQueries` stored vectors held out of it as
    /// queries (`HeldOutSample`; one more pass over `source` builds the exact index) and added after;
    /// a failed measurement is logged and leaves the index without a curve (its defaults serve).
    ///
    ///     try await catalog.rebuild(space: "s", factory: IndexFactory("IVF256,PQ16"), metric: .cosine,
    ///                               dim: 384, generation: gen, source: { store.batches("s") })
    @discardableResult
    public func rebuild(space: String, factory: IndexFactory, metric: Metric, dim: Int, generation: UInt64,
                        expectedCount: Int? = nil, persist: Bool = true, calibrate: Bool = true,
                        source: @escaping VectorSource,
                        progress: (@Sendable (RebuildProgress) -> Void)? = nil) async throws -> IndexInfo {
        // Validate the factory before touching any state: a rejected factory changes nothing.
        let fresh = try VectorIndex(factory: factory, metric: metric, dim: dim)
        let s = slot(space, create: true)!
        try s.state.withLock { s in
            if s.rebuilding { throw SearchError.rebuildInProgress(space) }
            s.rebuilding = true
        }
        // Start journaling behind every write already queued (those are in the store snapshot).
        do {
            try await s.lane.run { s.state.withLock { $0.journal = []; $0.rebuildDim = dim } }
        } catch {
            s.state.withLock { $0.rebuilding = false }
            throw error
        }
        let report: @Sendable (RebuildProgress.Phase, Int) -> Void = { phase, n in
            let p = RebuildProgress(space: space, phase: phase, vectors: n, total: expectedCount)
            progress?(p)
        }
        do {
            let started = Date()
            log("index \(space): building \(factory) (\(metric.rawValue), \(dim)-d)")
            if fresh.needsTraining {
                let sample = try await trainingSample(source: source, size: factory.trainingSampleSize, dim: dim) {
                    report(.sampling, $0)
                }
                report(.training, sample.count / dim)
                log("index \(space): training on \(sample.count / dim) vectors")
                try await buildPool.run { try fresh.train(sample) }
            }
            // An approximate index to calibrate is measured before the swap with held-out queries:
            // its sample rows are added only after the measurement.
            let measure = calibrate && RecallCurve.ladder(for: factory) != nil
            var held = HeldOutSample(size: measure ? RecallCurve.sampleQueries : 0, dim: dim, seed: RecallCurve.defaultSeed)
            var added = 0
            var lastLog = Date()
            for try await whole in source() {
                let batch = held.offer(whole)
                try await buildPool.run { try fresh.add(ids: batch.ids, vectors: batch.values) }
                added += whole.ids.count
                report(.adding, added)
                if Date().timeIntervalSince(lastLog) > 5 {
                    lastLog = Date()
                    log("index \(space): \(added)\(expectedCount.map { " of \($0)" } ?? "") vectors added")
                }
            }
            let curve = measure ? await measureHeldOut(space: space, index: fresh, held: held, generation: generation,
                                                        source: source) : nil
            if !held.isEmpty {
                let ids = held.ids, values = held.values
                try await buildPool.run { try fresh.add(ids: ids, vectors: values) }
            }
            // Swap on the write lane: no write can slip between replay and swap.
            let replayed = try await s.lane.run { () -> Int in
                let journal = s.state.withLock { $0.journal ?? [] }
                for entry in journal {
                    switch entry {
                    case let .add(ids, vectors): try fresh.add(ids: ids, vectors: vectors)
                    case let .remove(ids): try fresh.remove(ids: ids)
                    }
                }
                s.state.withLock { s in
                    s.index = fresh
                    s.calibration.curve = curve  // a new graph / new lists: the measurement above or none
                    s.generation = max(s.generation, generation)
                    s.journal = nil
                    s.rebuildDim = nil
                    s.rebuilding = false
                }
                return journal.count
            }
            report(.replaying, replayed)
            log(String(format: "index \(space): %d vectors in %.1f s (%d writes replayed)",
                       fresh.count, Date().timeIntervalSince(started), replayed))
        } catch {
            s.state.withLock { s in
                s.journal = nil
                s.rebuildDim = nil
                s.rebuilding = false
            }
            log("index \(space): rebuild failed, previous index kept: \(error)")
            throw error
        }
        if calibrate, RecallCurve.ladder(for: factory) != nil {
            let cal = s.state.withLock { $0.calibration }
            try? cal.write(to: calibrationURL(for: space))
        }
        if persist {
            report(.saving, fresh.count)
            try await save(space: space)
        }
        report(.done, fresh.count)
        return info(space: space)!
    }

    /// Brings a space's index in line with the store at start-up: loads its file when it is intact
    /// and stamped with `storeGeneration` (and, when given, has the wanted factory / metric / dim);
    /// otherwise (missing, corrupt, truncated, stale) rebuilds from `source` and saves.
    /// Without `factory`/`metric`, a rebuild keeps the file's settings when its header is readable,
    /// else uses Flat / cosine.
    public func ensureFresh(space: String, storeGeneration: UInt64, factory: IndexFactory? = nil,
                            metric: Metric? = nil, dim: Int, expectedCount: Int? = nil,
                            source: @escaping VectorSource,
                            progress: (@Sendable (RebuildProgress) -> Void)? = nil) async throws -> Freshness {
        let url = fileURL(for: space)
        removeTemporaryFiles(for: url)
        let header = try? VectorIndex.readHeader(at: url)
        loadCalibration(space: space, factory: factory ?? header?.factory, generation: storeGeneration)
        var reason: String
        do {
            let (index, gen) = try await buildPool.run {
                try VectorIndex.load(from: url, expectedGeneration: storeGeneration)
            }
            if index.dim != dim {
                reason = "its dimension is \(index.dim), the space has \(dim)"
            } else if let factory, factory != index.factory {
                reason = "it is \(index.factory), wanted \(factory)"
            } else if let metric, metric != index.metric {
                reason = "its metric is \(index.metric.rawValue), wanted \(metric.rawValue)"
            } else {
                install(space: space, index: index, generation: gen)
                loadCalibration(space: space, factory: index.factory, generation: gen)
                log("index \(space): loaded \(index.count) vectors (generation \(gen))")
                return .loaded(count: index.count, generation: gen)
            }
        } catch let e as SearchError {
            switch e {
            case .missingIndexFile: reason = "no index file"
            case let .staleIndexFile(_, found, expected): reason = "file generation \(found), store at \(expected)"
            default: reason = e.description
            }
        }
        log("index \(space): \(reason); rebuilding from the store")
        let info = try await rebuild(
            space: space, factory: factory ?? header?.factory ?? .flat, metric: metric ?? header?.metric ?? .cosine,
            dim: dim, generation: storeGeneration, expectedCount: expectedCount, source: source, progress: progress)
        return .rebuilt(reason: reason, count: info.count)
    }

    /// Deletes `.<name>.tmp-<pid>-*` files a crash (kill -9 mid-write) left next to an index file:
    /// only those of processes that no longer run. A live process's (this one's included) may be a
    /// save in flight — removing it made that save's rename fail (ENOENT: a 500 under the soak, two
    /// searches catching up one space at once).
    func removeTemporaryFiles(for url: URL) {
        let dir = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent).tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            if let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0,
               pid == getpid() || kill(pid, 0) == 0 || errno == EPERM { continue }
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(name))
        }
    }

    /// Uniform sample (reservoir) of `size` vectors from one pass over `source`.
    func trainingSample(source: VectorSource, size: Int, dim: Int,
                        progress: (Int) -> Void) async throws -> [Float] {
        var sample = [Float]()
        sample.reserveCapacity(size * dim)
        var seen = 0
        var rng = SystemRandomNumberGenerator()
        for try await batch in source() {
            try VectorIndex.validate(batch.values, rows: batch.ids.count, dim: dim)
            for r in 0..<batch.ids.count {
                let row = batch.values[(r * dim)..<((r + 1) * dim)]
                if seen < size {
                    sample.append(contentsOf: row)
                } else {
                    let j = Int.random(in: 0...seen, using: &rng)
                    if j < size { sample.replaceSubrange((j * dim)..<((j + 1) * dim), with: row) }
                }
                seen += 1
            }
            progress(seen)
        }
        return sample
    }
}
