import Foundation

/// Every job type this build knows, registered on a runner.
public enum JobTypes {
    /// `afterWrite` is told of every vector batch a job stores (the search layer keeps its indexes live).
    public static func registerAll(on runner: JobRunner, afterWrite: VectorWriteHook? = nil) {
        DiagnosticJobs.register(on: runner)
        IngestJob.register(on: runner)
        EmbedJob.register(on: runner, afterWrite: afterWrite)
        AnalysisJobs.register(on: runner)
        TrainJob.register(on: runner, afterWrite: afterWrite)
    }
}
