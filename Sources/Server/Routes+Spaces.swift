import Core
import FlyingFox
import Foundation
import Services
import Store

extension APIServer {
    /// Create, list, get and delete spaces (deleting drops the index and its file too).
    public static func spaceRoutes(_ ctx: ServiceContext) -> [Route] {
        [
            Route("POST", "/v1/spaces") { req in
                let input = try JSONCodec.decode(SpaceInput.self, from: req.body, nonNull: ["name", "kind", "dim", "dtype", "metric", "index_factory"])
                if (1...65_536).contains(input.dim) {  // (the store answers a bad dim)
                    try SearchService.checkFactory(input.indexFactory ?? "Flat", metric: input.metric ?? .cosine, dim: input.dim)
                }
                return try .json(try await ctx.store.createSpace(input), status: .created)
            },
            Route("GET", "/v1/spaces") { _ in
                try .json(["spaces": try await ctx.store.spaces()])
            },
            Route("GET", "/v1/spaces/{name}") { req in
                try .json(try await requireSpace(ctx, req.param("name")))
            },
            Route("DELETE", "/v1/spaces/{name}") { req in
                let name = req.param("name")
                guard try await ctx.writer.deleteSpace(named: name) else {
                    throw APIError.notFound("space '\(name)' does not exist", code: "unknown_space")
                }
                return HTTPResponse(statusCode: .noContent)
            },
        ]
    }

    static func requireSpace(_ ctx: ServiceContext, _ name: String) async throws -> SpaceRecord {
        guard let s = try await ctx.store.space(named: name) else {
            throw APIError.notFound("space '\(name)' does not exist", code: "unknown_space")
        }
        return s
    }
}
