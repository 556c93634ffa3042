import Core
import FlyingFox
import Foundation
import Jobs
import Store

extension APIServer {
    /// Most functions one repository snapshot may hold (`PUT /v1/repos/snapshot`).
    public static let maxSnapshotFunctions = 1_000_000

    /// `POST /v1/repos {path, name?, history?}` queues an ingest job of a directory under one of the
    /// server's ingest roots; `GET /v1/repos` lists repositories.
    public static func repoRoutes(_ ctx: ServiceContext, runner: JobRunner) -> [Route] {
        [
            Route("POST", "/v1/repos") { req in
                let body = try JSONCodec.decode(JSONValue.self, from: req.body)
                guard body.objectValue != nil else { throw APIError.badRequest("body must be a JSON object", code: "invalid_json") }
                let job = try await runner.submit(type: "ingest", params: body)
                return try .json(job, status: HTTPStatusCode(202, phrase: "Accepted"))
            },
        ] + repoSnapshotRoutes(ctx)
    }

    /// `GET /v1/repos`, and `PUT /v1/repos/snapshot {name, path?, functions}`: a repository's whole set of functions
    /// extracted elsewhere (`swejepa ingest PATH --server URL`), stored as an ingest job stores them,
    /// in one transaction: unchanged functions keep their rows and vectors, changed ones get stale
    /// vectors, the repository's other functions are removed.
    public static func repoSnapshotRoutes(_ ctx: ServiceContext) -> [Route] {
        [
            Route("GET", "/v1/repos") { _ in
                try .json(["repos": try await ctx.store.repositories()])
            },
            // The name travels in the body: repository names hold `/` (`stdlib/json`), which a path
            // segment cannot carry through FlyingFox (it decodes %2F before routing).
            Route("PUT", "/v1/repos/snapshot") { req in
                struct Snapshot: Decodable {
                    var name: String
                    /// Where the repository was read from (on the uploading machine), for `GET /v1/repos`.
                    var path: String?
                    var functions: [FunctionInput]
                }
                let snapshot = try JSONCodec.decode(Snapshot.self, from: req.body, nonNull: FunctionInput.nonNullFields.union(["name", "path", "functions"]), opaque: FunctionInput.opaque)
                let name = snapshot.name
                guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw APIError.badRequest("'name' must not be empty", code: "invalid_parameter")
                }
                if snapshot.functions.count > maxSnapshotFunctions {
                    throw APIError.tooLarge("a snapshot holds at most \(maxSnapshotFunctions) functions, got \(snapshot.functions.count)")
                }
                return try .json(try await ctx.writer.replaceRepository(name, path: snapshot.path, functions: snapshot.functions))
            },
        ]
    }
}
