import Core
import FlyingFox
import FlyingSocks
import Foundation
import Jobs
import Store

extension APIServer {
    /// Submit, list, inspect, follow (server-sent events) and cancel jobs.
    public static func jobRoutes(_ ctx: ServiceContext, runner: JobRunner) -> [Route] {
        [
            Route("POST", "/v1/jobs") { req in
                let body = try JSONCodec.decode(JSONValue.self, from: req.body, nonNull: ["type", "max_attempts"])  // params: JobParams.decode
                guard var fields = body.objectValue else { throw APIError.badRequest("body must be a JSON object", code: "invalid_json") }
                guard let type = fields.removeValue(forKey: "type")?.stringValue, !type.isEmpty else {
                    throw APIError.badRequest("missing field 'type' (the job type)", code: "invalid_json")
                }
                var maxAttempts = 3
                if let m = fields.removeValue(forKey: "max_attempts") {
                    guard let n = m.intValue, (1...100).contains(n) else {
                        throw APIError.badRequest("max_attempts must be an integer in 1...100", code: "invalid_parameter")
                    }
                    maxAttempts = n
                }
                var remote = false
                if let r = fields.removeValue(forKey: "remote") {
                    guard let b = r.boolValue else { throw APIError.badRequest("remote must be true or false", code: "invalid_parameter") }
                    remote = b
                }
                let job = try await runner.submit(type: type, params: .object(fields), maxAttempts: maxAttempts, remote: remote)
                return try .json(job, status: HTTPStatusCode(202, phrase: "Accepted"))
            },
            Route("GET", "/v1/jobs") { req in
                var state: JobState?
                if let s = req.query("state") {
                    guard let v = JobState(rawValue: s) else {
                        throw APIError.badRequest("state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))", code: "invalid_parameter")
                    }
                    state = v
                }
                let limit = try req.intQuery("limit", default: 100, range: 1...1000)
                let type = req.query("type").flatMap { $0.isEmpty ? nil : $0 }
                // Paging, newest first: `before` = the last id of the previous page.
                let before = try req.optionalInt64Query("before", range: 1...Int64.max)
                return try .json(["jobs": try await ctx.store.jobs(state: state, type: type, before: before, limit: limit)])
            },
            Route("GET", "/v1/jobs/{id}") { req in
                try .json(try await requireJob(ctx, req))
            },
            Route("GET", "/v1/jobs/{id}/metrics") { req in
                let job = try await requireJob(ctx, req)
                let after = try req.optionalInt64Query("after_step", range: Int64(Int.min)...Int64(Int.max)).map { Int($0) }
                let points = try await ctx.store.jobMetrics(job: job.id, name: req.query("name"), afterStep: after)
                // Grouped by name: {"loss": {"steps": […], "values": […]}} is what a plot wants.
                var series = [String: JSONValue]()
                for name in Set(points.map(\.name)).sorted() {
                    let p = points.filter { $0.name == name }
                    series[name] = ["steps": .array(p.map { .number(Double($0.step)) }), "values": .array(p.map { .number($0.value) })]
                }
                return try .json(["job_id": JSONValue.number(Double(job.id)), "series": .object(series)])
            },
            Route("GET", "/v1/jobs/{id}/logs") { req in
                let job = try await requireJob(ctx, req)
                let after = try req.optionalInt64Query("after")
                let limit = try req.intQuery("limit", default: 1000, range: 1...10_000)
                return try .json(["logs": try await ctx.store.jobLogs(job: job.id, afterID: after, limit: limit)])
            },
            Route("GET", "/v1/jobs/{id}/events") { req in
                let job = try await requireJob(ctx, req)
                let stream = JobEventStream(store: ctx.store, jobID: job.id)
                return HTTPResponse(statusCode: .ok,
                                    headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                                    body: HTTPBodySequence(from: stream))
            },
            Route("POST", "/v1/jobs/{id}/cancel") { req in
                let id = try req.int64Param("id")
                guard let job = try await ctx.store.requestCancel(job: id) else {
                    throw APIError.notFound("job \(id) does not exist", code: "unknown_job")
                }
                return try .json(job, status: HTTPStatusCode(202, phrase: "Accepted"))
            },
        ]
    }

    static func requireJob(_ ctx: ServiceContext, _ req: RequestContext) async throws -> JobRecord {
        let id = try req.int64Param("id")
        guard let job = try await ctx.store.job(id: id) else {
            throw APIError.notFound("job \(id) does not exist", code: "unknown_job")
        }
        return job
    }
}

/// Server-sent events for one job: `state`, `progress`, `metric` and `log` events, polled from the
/// store (so jobs run by other worker processes are followed too); ends after the final state.
struct JobEventStream: AsyncBufferedSequence, AsyncBufferedIteratorProtocol, Sendable {
    typealias Element = UInt8
    let store: any StoreBackend
    let jobID: Int64
    var lastState: JobState?
    var lastProgress: (Double, String)?
    var lastLog: Int64 = 0
    var lastMetric: Int64 = 0
    var done = false
    var deadline = Date().addingTimeInterval(24 * 3600)

    init(store: any StoreBackend, jobID: Int64) { self.store = store; self.jobID = jobID }

    func makeAsyncIterator() -> JobEventStream { self }

    mutating func next() async throws -> UInt8? { fatalError("use nextBuffer") }

    mutating func nextBuffer(suggested count: Int) async throws -> [UInt8]? {
        if done { return nil }
        while true {
            var out = ""
            guard let job = try await store.job(id: jobID) else { done = true; return nil }
            if job.state != lastState {
                out += event("state", ["state": .string(job.state.rawValue), "attempt": .number(Double(job.attempt)),
                                       "error": job.error.map(JSONValue.string) ?? .null])
                lastState = job.state
            }
            if lastProgress == nil || lastProgress!.0 != job.progress || lastProgress!.1 != job.message {
                out += event("progress", ["progress": .number(job.progress), "message": .string(job.message)])
                lastProgress = (job.progress, job.message)
            }
            // Only the points recorded since the last poll (in recording order), never the whole series.
            for (sequence, m) in try await store.jobMetrics(job: jobID, afterSequence: lastMetric, limit: 1000) {
                out += event("metric", ["step": .number(Double(m.step)), "name": .string(m.name), "value": .number(m.value)])
                lastMetric = sequence
            }
            for log in try await store.jobLogs(job: jobID, afterID: lastLog, limit: 500) {
                out += event("log", ["level": .string(log.level.rawValue), "message": .string(log.message)])
                lastLog = log.id
            }
            if job.state.isFinal || Date() > deadline {
                done = true
                out += event("end", ["state": .string(job.state.rawValue)])
            }
            if !out.isEmpty { return Array(out.utf8) }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
    }

    func event(_ name: String, _ data: JSONValue) -> String {
        "event: \(name)\ndata: \(data.jsonString())\n\n"
    }
}
