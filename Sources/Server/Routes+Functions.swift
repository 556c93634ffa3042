import Core
import FlyingFox
import Foundation
import Services
import Store

extension APIServer {
    public static let maxFunctionBatch = 10_000

    /// Batch upsert, get, list with cursor, delete (through the vector writer: its vectors leave the indexes).
    public static func functionRoutes(_ ctx: ServiceContext) -> [Route] {
        [
            Route("POST", "/v1/functions") { req in
                struct Batch: Decodable { var functions: [FunctionInput] }
                let items: [FunctionInput]
                if req.body.first(where: { !$0.isWhitespace }) == UInt8(ascii: "[") {
                    items = try JSONCodec.decode([FunctionInput].self, from: req.body, nonNull: FunctionInput.nonNullFields.union(["functions"]), opaque: FunctionInput.opaque)
                } else {
                    items = try JSONCodec.decode(Batch.self, from: req.body, nonNull: FunctionInput.nonNullFields.union(["functions"]), opaque: FunctionInput.opaque).functions
                }
                if items.count > maxFunctionBatch {
                    throw APIError.tooLarge("a batch holds at most \(maxFunctionBatch) functions, got \(items.count)")
                }
                return try .json(try await ctx.store.upsertFunctions(items))
            },
            Route("GET", "/v1/functions") { req in
                let limit = try req.intQuery("limit", default: 100, range: 1...1000)
                var after: Int64?
                if let cursor = req.query("cursor") {
                    // Exactly what `next_cursor` looks like (the spec's pattern): 1 to 18 ASCII digits.
                    guard (1...18).contains(cursor.utf8.count), cursor.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                          let n = Int64(cursor) else {
                        throw APIError.badRequest("cursor '\(cursor)' is not one this server gave out", code: "invalid_cursor")
                    }
                    after = n
                }
                let items = try await ctx.store.functions(FunctionQuery(
                    repo: req.query("repo"), path: req.query("path"), text: req.query("q"), signature: req.query("signature"),
                    limit: limit, after: after))
                struct Page: Encodable {
                    var functions: [FunctionRecord]
                    var nextCursor: String?
                    enum CodingKeys: String, CodingKey { case functions, nextCursor = "next_cursor" }
                    func encode(to encoder: any Encoder) throws {
                        var c = encoder.container(keyedBy: CodingKeys.self)
                        try c.encode(functions, forKey: .functions)
                        try c.encode(nextCursor, forKey: .nextCursor)  // explicit null on the last page
                    }
                }
                let next = items.count == limit ? items.last.map { String($0.id) } : nil
                return try .json(Page(functions: items, nextCursor: next))
            },
            Route("GET", "/v1/functions/{id}") { req in
                let id = try req.int64Param("id")
                guard let f = try await ctx.store.function(id: id) else {
                    throw APIError.notFound("function \(id) does not exist", code: "unknown_function")
                }
                return try .json(f)
            },
            Route("DELETE", "/v1/functions/{id}") { req in
                let id = try req.int64Param("id")
                guard try await ctx.writer.deleteFunction(id: id) else {
                    throw APIError.notFound("function \(id) does not exist", code: "unknown_function")
                }
                return HTTPResponse(statusCode: .noContent)
            },
        ]
    }
}

extension UInt8 {
    var isWhitespace: Bool { self == 0x20 || self == 0x0a || self == 0x0d || self == 0x09 }
}
