import Core
import FlyingFox
import Foundation
import Jobs
import Store

extension APIServer {
    /// `POST /v1/repos {path, name?, history?}` queues an ingest job; `GET /v1/repos` lists repositories.
    public static func repoRoutes(_ ctx: ServiceContext, runner: JobRunner) -> [Route] {
        [
            Route("POST", "/v1/repos") { req in
                let body = try JSONCodec.decode(JSONValue.self, from: req.body)
                guard body.objectValue != nil else { throw APIError.badRequest("body must be a JSON object", code: "invalid_json") }
                let job = try await runner.submit(type: "ingest", params: body)
                return try .json(job, status: HTTPStatusCode(202, phrase: "Accepted"))
            },
            Route("GET", "/v1/repos") { _ in
                try .json(["repos": try await ctx.store.repositories()])
            },
        ]
    }
}
