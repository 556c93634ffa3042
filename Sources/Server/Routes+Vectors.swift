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
                let space = try await requireSpace(ctx, req.param("name"))
                let ids = try VectorBody.idList(req.query("ids"), required: false)
                let batch = try await ctx.store.vectors(space: space.name, ids: ids)
                let total = batch.rows.reduce(0, +)
                if req.wants("application/x-npz", format: "npz") {
                    return .npz(["ids": NPYArray(int64s: batch.ids),
                                 "vectors": NPYArray(floats: batch.values, shape: [total, space.dim]),
                                 "rows": NPYArray(int64s: batch.rows.map(Int64.init))])
                }
                if req.wants("application/x-npy", format: "npy") {
                    if space.kind.isTokens && batch.ids.count != 1 {
                        throw APIError.badRequest("a token space gives .npy for one id at a time; ask for .npz (ids, vectors, rows) for several",
                                                  code: "npy_needs_one_id")
                    }
                    return .npy(NPYArray(floats: batch.values, shape: [total, space.dim]))
                }
                return try .json(VectorsJSON(space: space, batch: batch))
            },
        ]
    }
}

/// `{"space":…, "dim":…, "ids":[…], "vectors":[[…]]}`; token spaces give a matrix per id.
struct VectorsJSON: Encodable {
    let space: SpaceRecord
    let batch: VectorBatch
    enum CodingKeys: String, CodingKey { case space, dim, ids, vectors, truncated }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(space.name, forKey: .space)
        try c.encode(space.dim, forKey: .dim)
        try c.encode(batch.ids, forKey: .ids)
        var list = c.nestedUnkeyedContainer(forKey: .vectors)
        var offset = 0
        for r in batch.rows {
            if space.kind.isTokens {
                var m = list.nestedUnkeyedContainer()
                for i in 0..<r { try m.encode(Array(batch.values[(offset + i * space.dim)..<(offset + (i + 1) * space.dim)])) }
            } else {
                try list.encode(Array(batch.values[offset..<(offset + space.dim)]))
            }
            offset += r * space.dim
        }
        if let t = batch.truncated, t.contains(true) { try c.encode(t, forKey: .truncated) }
    }
}
