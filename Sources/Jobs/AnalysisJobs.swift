/// The seed's Phase 0 questions as job types, wiring the pure `Analysis` module to the store:
///
/// - `probe` (`ProbeJob`): linear probes of function properties from a space's vectors, with
///   grouped cross-validation and controls; results stored in `probe_results` and returned.
/// - `layer_sweep` (`LayerSweepJob`): per layer, anisotropy, effective rank and probe R² of LOC and
///   complexity, as one table (the job's result; no table of its own).
/// - `neighbours` (`NeighboursJob`): every function's top-k cross-repository neighbours, stored in
///   `neighbours`, with duplicate-group and template-family summaries.
///
/// ```swift
/// let runner = JobRunner(store: store, dataDirectory: dir)
/// AnalysisJobs.register(on: runner)
/// let job = try await runner.submit(type: "probe", params: ["space": "all-MiniLM-L6-v2.L3.body_mean",
///                                                          "targets": ["loc", "return_category"]])
/// ```
public enum AnalysisJobs {
    public static func register(on runner: JobRunner) {
        runner.register("probe", ProbeJob.Params.self, ProbeJob.run)
        runner.register("layer_sweep", LayerSweepJob.Params.self, LayerSweepJob.run)
        runner.register("neighbours", NeighboursJob.Params.self, NeighboursJob.run)
    }
}
