import Core
import Foundation

/// Job types for checking the job machinery itself.
public enum DiagnosticJobs {
    /// `sleep {seconds, steps?, fail?, hold_after_step?}`: sleeps in steps, reporting progress and a metric
    /// per step, honouring cancel between steps; with `fail: true` it throws at the end. Resumable: a
    /// re-run skips steps it already reported (metric `step` in the job's series).
    ///
    /// `hold_after_step: N` parks the job after reporting step N until the file
    /// `DATA/diagnostics/sleep-<job id>.release` exists (cancel still honoured): a test in another
    /// process holds a worker at a known point without assuming how fast anything runs.
    ///
    /// ```swift
    /// let p = try DiagnosticJobs.SleepParams.decode(["seconds": 2, "steps": 4], job: "sleep")
    /// ```
    public struct SleepParams: JobParams, Equatable {
        public var seconds: Double
        public var steps = 10
        public var fail = false
        public var holdAfterStep: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case seconds, steps, fail, holdAfterStep = "hold_after_step"
        }
        public static let knownKeys: Set<String>? = Set(CodingKeys.allCases.map(\.rawValue))

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            seconds = try c.decode(Double.self, forKey: .seconds)
            steps = try c.value(.steps, default: steps)
            fail = try c.value(.fail, default: fail)
            holdAfterStep = try c.decodeIfPresent(Int.self, forKey: .holdAfterStep)
        }

        public func validate() throws {
            try JobParamsCheck.range("seconds", seconds, 0...86_400)
            try JobParamsCheck.range("steps", steps, 1...100_000)
            try JobParamsCheck.range("hold_after_step", holdAfterStep, 0...100_000)
        }
    }

    /// `sleep`'s result.
    public struct SleepResult: Encodable, Sendable {
        public var slept: Double
        public var steps: Int
        public var resumedAfter: Int
        enum CodingKeys: String, CodingKey { case slept, steps, resumedAfter = "resumed_after" }
    }

    public static func register(on runner: JobRunner) {
        runner.register("sleep", SleepParams.self, sleep)
    }

    @Sendable static func sleep(_ ctx: JobContext, _ p: SleepParams) async throws -> SleepResult {
        let done = try await ctx.store.jobMetrics(job: ctx.job.id, name: "step", afterStep: nil).map(\.step).max() ?? -1
        if done >= 0 { await ctx.log("resuming after step \(done)") }
        for step in (done + 1)..<p.steps {
            try ctx.checkCancelled()
            try await Task.sleep(nanoseconds: UInt64(p.seconds / Double(p.steps) * 1e9))
            await ctx.metric(step: step, "step", Double(step))
            await ctx.progress(Double(step + 1) / Double(p.steps), "step \(step + 1)/\(p.steps)")
            if step == p.holdAfterStep {
                let release = ctx.dataDirectory.appendingPathComponent("diagnostics/sleep-\(ctx.job.id).release")
                while !FileManager.default.fileExists(atPath: release.path) {
                    try ctx.checkCancelled()
                    try await Task.sleep(nanoseconds: 20_000_000)
                }
            }
        }
        if p.fail { throw APIError.badRequest("asked to fail", code: "failed_on_purpose") }
        return SleepResult(slept: p.seconds, steps: p.steps, resumedAfter: done)
    }
}
