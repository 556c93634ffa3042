import Core
import FlyingFox
import Foundation
import Jobs
import Search
import Store

extension APIServer {
    /// Nearest-function search and index management.
    public static func searchRoutes(_ ctx: ServiceContext, search: SearchService) -> [Route] {
        [
            Route("POST", "/v1/spaces/{name}/search") { req in
                let space = try await requireSpace(ctx, req.param("name"))
                let query = try SearchRequest.decode(req, space: space)
                return try .json(try await query.run(ctx: ctx, search: search, space: space))
            },
            Route("POST", "/v1/spaces/{name}/index") { req in
                struct Body: Decodable { var factory: String; var metric: Metric? }
                let body = try JSONCodec.decode(Body.self, from: req.body)
                let space = try await requireSpace(ctx, req.param("name"))
                let started = Date()
                let info = try await search.reindex(space: space.name, factory: body.factory, metric: body.metric ?? space.metric)
                return try .json(IndexInfoJSON(info, seconds: Date().timeIntervalSince(started)))
            },
            Route("GET", "/v1/spaces/{name}/index") { req in
                let space = try await requireSpace(ctx, req.param("name"))
                try await search.ensureFresh(space)
                guard let info = search.catalog.info(space: space.name) else {
                    throw APIError.notFound("space '\(space.name)' has no index (no vectors yet, or a token space)", code: "no_index")
                }
                return try .json(IndexInfoJSON(info, seconds: nil))
            },
        ]
    }
}

struct IndexInfoJSON: Encodable {
    var space: String, factory: String, metric: String, dim: Int, count: Int, generation: UInt64
    var nprobe: Int?, efSearch: Int?, seconds: Double?
    enum CodingKeys: String, CodingKey {
        case space, factory, metric, dim, count, generation, nprobe, seconds
        case efSearch = "ef_search"
    }
    init(_ i: IndexInfo, seconds: Double?) {
        space = i.space; factory = i.factory.string; dim = i.dim; count = i.count
        metric = i.metric.rawValue
        generation = i.generation; nprobe = i.defaultNprobe; efSearch = i.defaultEfSearch; self.seconds = seconds
    }
}

/// A search request: query vectors or function ids, k, filters and index knobs.
struct SearchRequest {
    var queries: [Float] = []
    var queryIDs: [Int64]?
    var k = 10
    var excludeSelf = true
    var excludeDuplicates = false
    var excludeSameRepo = false
    var repos: [String]?
    var params = SearchParams()

    struct Body: Decodable {
        var vectors: [[Float]]?
        var vectorsB64: [String]?
        var functionIds: [Int64]?
        var k: Int?
        var excludeSelf: Bool?
        var excludeDuplicates: Bool?
        var excludeSameRepo: Bool?
        var repos: [String]?
        var nprobe: Int?
        var efSearch: Int?
        enum CodingKeys: String, CodingKey {
            case vectors, k, repos, nprobe
            case vectorsB64 = "vectors_b64", functionIds = "function_ids", excludeSelf = "exclude_self"
            case excludeDuplicates = "exclude_duplicates", excludeSameRepo = "exclude_same_repo", efSearch = "ef_search"
        }
    }

    static func decode(_ req: RequestContext, space: SpaceRecord) throws -> SearchRequest {
        var r = SearchRequest()
        if req.contentType == "application/x-npy" {
            let array = try NPYArray(data: req.body)
            guard array.shape.last == space.dim, array.shape.count <= 2 else {
                throw APIError.badRequest("query matrix has shape \(array.shape), space '\(space.name)' has dim \(space.dim)", code: "wrong_dimension")
            }
            r.queries = try array.floats()
            r.k = try req.intQuery("k", default: 10, range: 1...1000)
            r.repos = req.query("repos").map { $0.split(separator: ",").map(String.init) }
            r.params = SearchParams(nprobe: req.query("nprobe").flatMap(Int.init), efSearch: req.query("ef_search").flatMap(Int.init))
        } else {
            let b = try JSONCodec.decode(Body.self, from: req.body)
            let sources = [b.vectors != nil, b.vectorsB64 != nil, b.functionIds != nil].filter { $0 }.count
            guard sources == 1 else {
                throw APIError.badRequest("give exactly one of 'vectors', 'vectors_b64' or 'function_ids'", code: "invalid_query")
            }
            if let v = b.vectors {
                for (i, row) in v.enumerated() where row.count != space.dim {
                    throw APIError.badRequest("vectors[\(i)] has \(row.count) values, space '\(space.name)' has dim \(space.dim)", code: "wrong_dimension")
                }
                r.queries = v.flatMap { $0 }
            } else if let enc = b.vectorsB64 {
                for (i, text) in enc.enumerated() {
                    guard let d = Data(base64Encoded: text), d.count == 4 * space.dim else {
                        throw APIError.badRequest("vectors_b64[\(i)] must be base64 of \(space.dim) little-endian float32 values", code: "wrong_dimension")
                    }
                    r.queries += VectorCodec.decode(d, as: .float32)
                }
            } else {
                r.queryIDs = b.functionIds
            }
            r.k = b.k ?? 10
            r.excludeSelf = b.excludeSelf ?? true
            r.excludeDuplicates = b.excludeDuplicates ?? false
            r.excludeSameRepo = b.excludeSameRepo ?? false
            r.repos = b.repos
            r.params = SearchParams(nprobe: b.nprobe, efSearch: b.efSearch)
        }
        guard (1...1000).contains(r.k) else { throw APIError.badRequest("k must be in 1...1000, got \(r.k)", code: "invalid_k") }
        if let q = r.queryIDs, q.isEmpty || q.count > 10_000 {
            throw APIError.badRequest("function_ids must hold 1 to 10000 ids", code: "invalid_query")
        }
        if r.queryIDs == nil && r.queries.isEmpty { throw APIError.badRequest("no query vectors", code: "invalid_query") }
        if r.queryIDs == nil && (r.excludeDuplicates || r.excludeSameRepo) {
            throw APIError.badRequest("exclude_duplicates and exclude_same_repo need function_ids queries", code: "invalid_query")
        }
        if let bad = r.queries.withUnsafeBufferPointer(VectorCodec.firstNonFinite) {
            throw APIError.badRequest("query value \(bad % space.dim) of row \(bad / space.dim) is NaN or infinite", code: "non_finite")
        }
        return r
    }

    func run(ctx: ServiceContext, search: SearchService, space: SpaceRecord) async throws -> JSONValue {
        var queries = self.queries
        var filter = SearchFilter()
        if let ids = queryIDs {
            let stored: VectorBatch
            do { stored = try await ctx.store.vectors(space: space.name, ids: ids) } catch let e as APIError where e.code == "unknown_vector" {
                throw APIError.unprocessable(e.message, code: "unknown_function")
            }
            queries = stored.values
            let facts = try await ctx.store.functionFacts(ids: ids)
            var perQuery = [[Int64]]()
            let groups = excludeDuplicates ? try await ctx.store.functionIDs(bodyHashes: facts.values.map(\.bodyHash)) : [:]
            var repoMembers = [String: [Int64]]()
            if excludeSameRepo {
                for repo in Set(facts.values.map(\.repo)) { repoMembers[repo] = try await ctx.store.functionIDs(repos: [repo]) }
            }
            for id in ids {
                var ex = [Int64]()
                if excludeSelf { ex.append(id) }
                if let f = facts[id] {
                    if excludeDuplicates { ex += groups[f.bodyHash] ?? [] }
                    if excludeSameRepo { ex += repoMembers[f.repo] ?? [] }
                }
                perQuery.append(ex)
            }
            filter.excludePerQuery = perQuery
        }
        if let repos { filter.allowOnly = try await ctx.store.functionIDs(repos: repos) }
        let results = try await search.search(space: space, queries: queries, k: k, params: params, filter: filter)
        let summaries = try await ctx.store.functionSummaries(ids: results.flatMap { $0.map(\.id) })
        var out = [JSONValue]()
        for (i, hits) in results.enumerated() {
            var entry: [String: JSONValue] = ["hits": .array(hits.map { h in
                let s = summaries[h.id]
                return ["id": .number(Double(h.id)), "score": .number(Double(h.score)),
                        "repo": .string(s?.repo ?? ""), "path": .string(s?.path ?? ""),
                        "qualified_name": .string(s?.qualifiedName ?? ""), "signature": .string(s?.signature ?? "")]
            })]
            entry["query"] = queryIDs.map { .number(Double($0[i])) } ?? .number(Double(i))
            out.append(.object(entry))
        }
        return ["space": .string(space.name), "k": .number(Double(k)), "results": .array(out)]
    }
}
