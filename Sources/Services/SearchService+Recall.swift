import Core
import Foundation
import Search

/// Recall calibration of a space's index: measured at every (re)build, re-measured in the background
/// once the space has grown by `IndexCatalog.recalibrateAfterGrowth` since, and steering every search
/// that names no `nprobe` / `ef_search` to the knob value reaching the space's (or the search's)
/// target recall.
///
/// ```swift
/// let cal = try await search.calibrate(space: "m.L6.sig_mean")   // measure now
/// cal.choice                                                        // e.g. ef_search 96 at recall 0.957
/// ```
extension SearchService {
    /// Measures the space's live index now (after bringing it up to date) and returns its calibration.
    @discardableResult
    public func calibrate(space name: String) async throws -> RecallCalibration {
        guard let space = try await store.space(named: name) else {
            throw APIError.notFound("space '\(name)' does not exist", code: "unknown_space")
        }
        try await ensureFresh(space)
        return try await catalog.calibrate(space: name, source: source(name))
    }

    /// When the index has no curve of its kind or outgrew it: an HNSW index is rebuilt in the
    /// background (the old one serving), so that its new curve is measured with held-out queries —
    /// measured in place, with its own vectors as queries, it promises more than new queries get
    /// (HNSW8 on clustered data: 0.90 at ef_search 64 in place, 0.85 for new queries). With growth of
    /// a quarter each time, all these rebuilds together cost at most four times the last one. An
    /// IVF index (no graph to flatter its own vectors) is measured in place.
    func refreshCalibrationIfNeeded(_ name: String) {
        guard catalog.needsCalibration(space: name), let info = catalog.info(space: name) else { return }
        let catalog = self.catalog, source = self.source(name), log = self.log, store = self.store
        Task.detached {
            do {
                guard case .hnsw(_) = info.factory.kind else {
                    try await catalog.calibrate(space: name, source: source)
                    return
                }
                guard let space = try await store.space(named: name) else { return }
                log("index \(name): \(info.count) vectors, last measured at \(info.calibration.curve.map { "\($0.count)" } ?? "none"); " +
                    "rebuilding in the background to measure its recall")
                try await catalog.rebuild(space: name, factory: info.factory, metric: info.metric, dim: space.dim,
                                          generation: UInt64(space.generation), expectedCount: space.count, source: source)
            } catch SearchError.rebuildInProgress {
                // another search noticed first
            } catch {
                log("index \(name): recall measurement failed: \(error)")
            }
        }
    }

    /// Checks a target recall given by a caller (400 `invalid_target_recall`).
    static func checkTarget(_ t: Double?) throws {
        guard let t else { return }
        guard t.isFinite, RecallCalibration.targetRange.contains(t) else {
            throw APIError.badRequest("target_recall must be a number in 0.01...1, got \(t)", code: "invalid_target_recall")
        }
    }
}
