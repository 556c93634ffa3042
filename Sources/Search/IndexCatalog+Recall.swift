import Core
import Foundation

/// Recall calibration: each approximate index is measured against exact search on a seeded sample
/// of its own vectors; the curve (and the space's target recall) lives next to the index file as
/// `<space>.faissidx.recall.json`, stamped with the generation and count it was measured at.
///
///     let cal = try await catalog.calibrate(space: "s", source: { store.batches("s") })
///     cal.choice   // e.g. ef_search 96 reaching 0.957 for the default target 0.95
extension IndexCatalog {
    /// Re-measure once the index holds this fraction more vectors than when it was measured.
    public static let recalibrateAfterGrowth = 0.25

    /// The calibration file of a space.
    public func calibrationURL(for space: String) -> URL {
        RecallCurve.fileURL(forIndex: fileURL(for: space))
    }

    /// `params` with the knob value the curve gives for its target (the request's or the space's),
    /// unless the caller named a knob value or the index has no curve of its own kind.
    static func calibrated(_ params: SearchParams, index: VectorIndex, calibration: RecallCalibration) -> SearchParams {
        guard params.nprobe == nil, params.efSearch == nil, let curve = calibration.curve,
              curve.factory == index.factory,
              let choice = curve.choose(target: params.targetRecall ?? calibration.targetRecall) else { return params }
        var p = curve.params(choice)
        p.threads = params.threads
        p.targetRecall = params.targetRecall
        return p
    }

    /// True when the live index is approximate and its curve is missing, of another factory, or
    /// older than `recalibrateAfterGrowth` of growth.
    public func needsCalibration(space: String) -> Bool {
        guard let s = slot(space) else { return false }
        return s.state.withLock { st in
            guard let index = st.index, !st.rebuilding, !st.calibrating,
                  RecallCurve.ladder(for: index.factory) != nil else { return false }
            guard let curve = st.calibration.curve, curve.factory == index.factory else { return true }
            return Double(index.count) >= Double(curve.count) * (1 + Self.recalibrateAfterGrowth)
        }
    }

    /// Sets a space's target recall (kept in its calibration file); the default knob follows at once.
    public func setTargetRecall(space: String, _ target: Double) throws {
        guard RecallCalibration.targetRange.contains(target) else {
            throw SearchError.invalidParameter("target_recall must be in 0.01...1, got \(target)")
        }
        let s = slot(space, create: true)!
        let cal = s.state.withLock { st in
            st.calibration.targetRecall = target
            return st.calibration
        }
        try cal.write(to: calibrationURL(for: space))
    }

    /// Reads the calibration file into a space's slot: its target always, its curve only when it was
    /// measured on an index of `factory` at or before `generation`.
    func loadCalibration(space: String, factory: IndexFactory?, generation: UInt64?) {
        guard let saved = RecallCalibration.read(from: calibrationURL(for: space)) else { return }
        let s = slot(space, create: true)!
        s.state.withLock { st in
            st.calibration.targetRecall = saved.targetRecall
            if let curve = saved.curve, let factory, let generation, curve.factory == factory, curve.generation <= generation {
                st.calibration.curve = curve
            }
        }
    }

    /// Measures `index` (being built, `held`'s rows not yet in it) with `held` as queries against an
    /// exact index over `source` minus those rows. A failure is logged and gives no curve.
    func measureHeldOut(space: String, index: VectorIndex, held: HeldOutSample, generation: UInt64,
                        source: @escaping VectorSource) async -> RecallCurve? {
        guard !held.isEmpty else { return nil }
        do {
            let exact = try VectorIndex(factory: .flat, metric: index.metric, dim: index.dim)
            let heldIDs = Set(held.ids)
            for try await batch in source() {
                var ids: [Int64] = [], values: [Float] = []
                ids.reserveCapacity(batch.ids.count)
                values.reserveCapacity(batch.values.count)
                for (r, id) in batch.ids.enumerated() where !heldIDs.contains(id) {
                    ids.append(id)
                    values += batch.values[(r * index.dim)..<((r + 1) * index.dim)]
                }
                let keep = VectorBatch(ids: ids, values: values)
                try await buildPool.run { try exact.add(ids: keep.ids, vectors: keep.values) }
            }
            let begun = Date()
            let queries = held.values, count = index.count + held.ids.count
            let curve = try await buildPool.run {
                try RecallCurve.measure(index: index, exact: exact, heldOut: queries, generation: generation, count: count)
            }
            if let curve {
                let target = slot(space)?.state.withLock { $0.calibration.targetRecall } ?? RecallCalibration.defaultTarget
                if let c = curve.choose(target: target) {
                    log(String(format: "index \(space): recall@%d on %d held-out queries measured in %.1f s; %@ %d gives %.3f (target %.2f)",
                               curve.k, curve.queries, Date().timeIntervalSince(begun), curve.knob.rawValue, c.value, c.recall, target))
                }
            }
            return curve
        } catch {
            log("index \(space): recall measurement failed (\(error)); the index's defaults serve")
            return nil
        }
    }

    /// Measures the live index of `space` against exact search over `source` (a Flat index built
    /// for the measurement and dropped after it, on the build thread) and stores the curve.
    /// Flat indexes get no curve. Returns the space's calibration.
    @discardableResult
    public func calibrate(space: String, source: @escaping VectorSource) async throws -> RecallCalibration {
        guard let s = slot(space) else { throw SearchError.unknownSpace(space) }
        let started: (VectorIndex, UInt64)? = s.state.withLock { st in
            guard let index = st.index, !st.calibrating else { return nil }
            st.calibrating = true
            return (index, st.generation)
        }
        guard let (index, generation) = started else {
            return s.state.withLock { $0.calibration }
        }
        defer { s.state.withLock { $0.calibrating = false } }
        guard RecallCurve.ladder(for: index.factory) != nil else {
            return s.state.withLock { st in
                st.calibration.curve = nil
                return st.calibration
            }
        }
        let exact = try VectorIndex(factory: .flat, metric: index.metric, dim: index.dim)
        var ids: [Int64] = []
        for try await batch in source() {
            try await buildPool.run { try exact.add(ids: batch.ids, vectors: batch.values) }
            ids += batch.ids
        }
        let begun = Date()
        let allIDs = ids
        let curve = try await buildPool.run {
            try RecallCurve.measure(index: index, exact: exact, ids: allIDs, generation: generation)
        }
        let cal = s.state.withLock { st in
            st.calibration.curve = curve
            return st.calibration
        }
        if let curve, let c = cal.choice {
            log(String(format: "index \(space): recall@%d on %d queries measured in %.1f s; %@ %d gives %.3f (target %.2f)",
                       curve.k, curve.queries, Date().timeIntervalSince(begun), curve.knob.rawValue, c.value, c.recall, cal.targetRecall))
        }
        try? cal.write(to: calibrationURL(for: space))
        return cal
    }
}
