import Core
import FlyingFox
import Foundation
import Services
import Store

extension APIServer {
    /// Stored analysis results: probe outcomes (`probe` jobs) and neighbour lists (`neighbours` jobs).
    ///
    /// ```
    /// GET /v1/probes?space=all-MiniLM-L6-v2.L3.body_mean&target=loc
    /// GET /v1/spaces/all-MiniLM-L6-v2.L3.body_mean/neighbours?function_id=42
    /// ```
    public static func analysisRoutes(_ ctx: ServiceContext) -> [Route] {
        [
            Route("GET", "/v1/probes") { req in
                let limit = try req.intQuery("limit", default: 100, range: 1...1000)
                var jobID: Int64?
                if let j = req.query("job_id") {  // present but empty is a 400 too, like every query parameter
                    guard let n = Int64(j), n > 0 else {
                        throw APIError.badRequest("query parameter 'job_id' must be a positive integer, got '\(j)'", code: "invalid_parameter")
                    }
                    jobID = n
                }
                let query = ProbeQuery(space: nonEmpty(req.query("space")), target: nonEmpty(req.query("target")), jobID: jobID, limit: limit)
                return try .json(["probes": try await ctx.store.probeResults(query)])
            },
            Route("GET", "/v1/spaces/{name}/neighbours") { req in
                let space = try await requireSpace(ctx, req.param("name"))
                if let text = req.query("function_id"), !text.isEmpty {
                    guard let id = Int64(text), id > 0 else {
                        throw APIError.badRequest("query parameter 'function_id' must be a positive integer, got '\(text)'", code: "invalid_parameter")
                    }
                    return try .json(try await NeighbourLists.page(store: ctx.store, space: space, functionID: id))
                }
                let limit = try req.intQuery("limit", default: 100, range: 1...1000)
                var after: Int64?
                if let a = req.query("after"), !a.isEmpty {
                    guard let n = Int64(a) else {
                        throw APIError.badRequest("query parameter 'after' must be an integer (a previous next_cursor), got '\(a)'", code: "invalid_parameter")
                    }
                    after = n
                }
                return try .json(try await NeighbourLists.page(store: ctx.store, space: space, after: after, limit: limit))
            },
        ]
    }

    private static func nonEmpty(_ s: String?) -> String? { (s?.isEmpty ?? true) ? nil : s }
}
