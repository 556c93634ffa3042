import Foundation
import Services

/// Every job type this build knows, registered on a runner.
public enum JobTypes {
    /// Jobs write and delete vectors through `writer` (which keeps the search indexes live; a writer
    /// without a search service only writes the store).
    /// `ingest` reads only directories under `ingestRoots` (none: no server path at all).
    public static func registerAll(on runner: JobRunner, writer: VectorWriter, ingestRoots: IngestRoots = .none) {
        DiagnosticJobs.register(on: runner)
        IngestJob.register(on: runner, writer: writer, roots: ingestRoots)
        EmbedJob.register(on: runner, writer: writer)
        AnalysisJobs.register(on: runner)
        TrainJob.register(on: runner, writer: writer)
    }
}
