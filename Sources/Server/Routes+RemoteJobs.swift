import Core
import FlyingFox
import Foundation
import Jobs

extension APIServer {
    /// Remote workers over HTTP: `POST /v1/jobs/claim` and a claimed job's `heartbeat`, `progress`,
    /// `complete` and `fail` (all writes: they need the token when the server has one). Each route
    /// decodes the JSON body and calls one `RemoteJobs` method; lease rules live there.
    ///
    /// ```sh
    /// curl -s localhost:8080/v1/jobs/claim -d '{"types":["embed"],"worker":"gpu-1","lease_seconds":60}'
    /// curl -s localhost:8080/v1/jobs/7/complete -d '{"worker":"gpu-1","result":{"functions":10}}'
    /// ```
    public static func remoteJobRoutes(_ ctx: ServiceContext, runner: JobRunner) -> [Route] {
        let remote = RemoteJobs(runner: runner)
        return [
            Route("POST", "/v1/jobs/claim") { req in
                guard let job = try await remote.claim(try jsonBody(req)) else { return HTTPResponse(statusCode: .noContent) }
                return try .json(job)
            },
            Route("POST", "/v1/jobs/{id}/heartbeat") { req in
                try .json(try await remote.heartbeat(job: try req.int64Param("id"), try jsonBody(req)))
            },
            Route("POST", "/v1/jobs/{id}/progress") { req in
                try .json(try await remote.progress(job: try req.int64Param("id"), try jsonBody(req)))
            },
            Route("POST", "/v1/jobs/{id}/complete") { req in
                try .json(try await remote.complete(job: try req.int64Param("id"), try jsonBody(req)))
            },
            Route("POST", "/v1/jobs/{id}/fail") { req in
                try .json(try await remote.fail(job: try req.int64Param("id"), try jsonBody(req)))
            },
        ]
    }

    /// The request body as JSON (400 `invalid_json` when it is not); the service checks its shape.
    static func jsonBody(_ req: RequestContext) throws -> JSONValue { try JSONCodec.decode(JSONValue.self, from: req.body) }
}
