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
    public static func register(on runner: JobRunner) {
        runner.register("sleep", validate: { p in
            guard let s = p["seconds"]?.doubleValue, s >= 0, s <= 86_400 else {
                throw APIError.badRequest("sleep needs 'seconds' between 0 and 86400", code: "invalid_parameter")
            }
            if let h = p["hold_after_step"], h.intValue.map({ $0 >= 0 }) != true {
                throw APIError.badRequest("hold_after_step must be a step number (an integer ≥ 0)", code: "invalid_parameter")
            }
        }) { ctx in
            let seconds = ctx.params["seconds"]?.doubleValue ?? 1
            let steps = max(1, ctx.params["steps"]?.intValue ?? 10)
            let done = try await ctx.store.jobMetrics(job: ctx.job.id, name: "step", afterStep: nil).map(\.step).max() ?? -1
            if done >= 0 { await ctx.log("resuming after step \(done)") }
            for step in (done + 1)..<steps {
                try ctx.checkCancelled()
                try await Task.sleep(nanoseconds: UInt64(seconds / Double(steps) * 1e9))
                await ctx.metric(step: step, "step", Double(step))
                await ctx.progress(Double(step + 1) / Double(steps), "step \(step + 1)/\(steps)")
                if step == ctx.params["hold_after_step"]?.intValue {
                    let release = ctx.dataDirectory.appendingPathComponent("diagnostics/sleep-\(ctx.job.id).release")
                    while !FileManager.default.fileExists(atPath: release.path) {
                        try ctx.checkCancelled()
                        try await Task.sleep(nanoseconds: 20_000_000)
                    }
                }
            }
            if ctx.params["fail"]?.boolValue == true { throw APIError.badRequest("asked to fail", code: "failed_on_purpose") }
            return ["slept": .number(seconds), "steps": .number(Double(steps)), "resumed_after": .number(Double(done))]
        }
    }
}
