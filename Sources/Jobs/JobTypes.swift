import Foundation

/// Every job type this build knows, registered on a runner.
public enum JobTypes {
    public static func registerAll(on runner: JobRunner) {
        DiagnosticJobs.register(on: runner)
        IngestJob.register(on: runner)
    }
}
