import Core
import FlyingFox
import Foundation
import Services
import Store

extension APIServer {
    /// Upload (through the vector writer, which keeps the live index current) and download a
    /// space's vectors (JSON, .npy, .npz).
    public static func vectorRoutes(_ ctx: ServiceContext) -> [Route] {
        [
            Route("PUT", "/v1/spaces/{name}/vectors") { req in
                let space = try await requireSpace(ctx, req.param("name"))
                let batch = try VectorBody.decode(req, space: space)
                let generation = try await ctx.writer.upsert(space: space.name, batch)
                return try .json(["space": JSONValue.string(space.name), "upserted": .number(Double(batch.ids.count)),
                                  "generation": .number(Double(generation))])
            },
            Route("GET", "/v1/spaces/{name}/vectors") { req in
                let format = try req.checkFormat(["json", "npy", "npz"])
                let space = try await requireSpace(ctx, req.param("name"))
                let ids = try readIDs(req)
                let layout = try await ctx.store.vectorLayout(space: space.name, ids: ids)
                let kind: VectorDownload.Format =
                    format == "json" ? .json
                    : req.wants("application/x-npz", format: "npz") ? .npz
                    : req.wants("application/x-npy", format: "npy") ? .npy : .json
                if kind == .npy, space.kind.isTokens, layout.ids.count != 1 {
                    throw APIError.badRequest("a token space gives .npy for one id at a time; ask for .npz (ids, vectors, rows) for several",
                                              code: "npy_needs_one_id")
                }
                let body = VectorDownload(store: ctx.store, space: space, layout: layout, format: kind)
                if kind == .npz, !body.fitsZip32 {
                    throw APIError.badRequest("these vectors exceed the 4 GiB an .npz answer holds; ask in pages with ?ids=", code: "too_large")
                }
                return HTTPResponse(statusCode: .ok, headers: [.contentType: kind.mediaType], body: body.httpBody)
            },
        ]
    }
}
