import Core
import FlyingFox
import Foundation
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
                if let j = req.query("job_id"), !j.isEmpty {
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
                guard let run = try await ctx.store.neighbourRun(space: space.name) else {
                    throw APIError.notFound(
                        "space '\(space.name)' has no stored neighbour lists; run a neighbours job: POST /v1/jobs {\"type\":\"neighbours\",\"space\":\"\(space.name)\"}",
                        code: "no_neighbours")
                }
                let rows: [NeighbourRow]
                var nextCursor: Int64?
                if let text = req.query("function_id"), !text.isEmpty {
                    guard let id = Int64(text), id > 0 else {
                        throw APIError.badRequest("query parameter 'function_id' must be a positive integer, got '\(text)'", code: "invalid_parameter")
                    }
                    rows = try await ctx.store.neighbours(space: space.name, functionID: id)
                    if rows.isEmpty {
                        guard try await ctx.store.function(id: id) != nil else {
                            throw APIError.notFound("function \(id) does not exist", code: "unknown_function")
                        }
                        throw APIError.notFound(
                            "function \(id) has no stored neighbour list in '\(space.name)' (no vector when the neighbours job ran, or a zero vector); run the job again",
                            code: "no_neighbours")
                    }
                } else {
                    let limit = try req.intQuery("limit", default: 100, range: 1...1000)
                    var after: Int64?
                    if let a = req.query("after"), !a.isEmpty {
                        guard let n = Int64(a) else {
                            throw APIError.badRequest("query parameter 'after' must be an integer (a previous next_cursor), got '\(a)'", code: "invalid_parameter")
                        }
                        after = n
                    }
                    rows = try await ctx.store.neighbours(space: space.name, after: after, limit: limit)
                    let functions = Set(rows.map(\.functionID))
                    if functions.count == limit { nextCursor = functions.max() }
                }
                let summaries = try await ctx.store.functionSummaries(ids: Array(Set(rows.flatMap { [$0.functionID, $0.neighbourID] })))
                var lists = [JSONValue]()
                var current: Int64?
                var entries = [JSONValue]()
                func flush() {
                    guard let id = current else { return }
                    lists.append(["function_id": .number(Double(id)), "function": describe(summaries[id]), "neighbours": .array(entries)])
                    entries = []
                }
                for row in rows {
                    if row.functionID != current { flush(); current = row.functionID }
                    let s = summaries[row.neighbourID]
                    entries.append(describe(s).merged(["rank": .number(Double(row.rank)), "score": .number(row.score),
                                                      "id": .number(Double(row.neighbourID)),
                                                      "same_duplicate_group": .bool(s != nil && s?.bodyHash == summaries[row.functionID]?.bodyHash)]))
                }
                flush()
                return try .json([
                    "space": .string(space.name), "k": .number(Double(run.k)), "exclude": .string(run.exclude),
                    "job_id": run.jobID.map { .number(Double($0)) } ?? .null, "created_at": .number(run.createdAt),
                    "lists": .array(lists), "next_cursor": nextCursor.map { .number(Double($0)) } ?? .null,
                ] as JSONValue)
            },
        ]
    }

    private static func nonEmpty(_ s: String?) -> String? { (s?.isEmpty ?? true) ? nil : s }

    /// `{"id","repo","path","qualified_name","body_hash"}` of a function (null when it vanished meanwhile).
    private static func describe(_ s: FunctionSummary?) -> JSONValue {
        guard let s else { return .null }
        return ["id": .number(Double(s.id)), "repo": .string(s.repo), "path": .string(s.path),
                "qualified_name": .string(s.qualifiedName), "body_hash": .string(s.bodyHash)]
    }
}

private extension JSONValue {
    func merged(_ extra: [String: JSONValue]) -> JSONValue {
        var o = objectValue ?? [:]
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }
}
