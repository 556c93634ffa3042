import Core
import FlyingFox
import Foundation
import Search
import Services
import Store

extension APIServer {
    /// Nearest-function search and index management.
    public static func searchRoutes(_ ctx: ServiceContext, search: SearchService) -> [Route] {
        [
            Route("POST", "/v1/spaces/{name}/search") { req in
                let space = try await requireSpace(ctx, req.param("name"))
                let query = try SearchRequest.decode(req, space: space)
                return try .json(try await search.search(query, in: space))
            },
            Route("POST", "/v1/spaces/{name}/index") { req in
                struct Body: Decodable { var factory: String; var metric: Metric? }
                let body = try JSONCodec.decode(Body.self, from: req.body, nonNull: ["factory", "metric"])
                let space = try await requireSpace(ctx, req.param("name"))
                let started = Date()
                let info = try await search.reindex(space: space.name, factory: body.factory, metric: body.metric ?? space.metric)
                return try .json(IndexInfoJSON(info, seconds: Date().timeIntervalSince(started)))
            },
            Route("GET", "/v1/spaces/{name}/index") { req in
                let space = try await requireSpace(ctx, req.param("name"))
                guard let info = try await search.indexInfo(space) else {
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

/// The wire forms of a search (JSON with vectors, base64 float32 rows or function ids; a `.npy`
/// matrix with query parameters) decoded into one `SearchQuery`; the service checks the rest.
enum SearchRequest {
    struct Body: Decodable {
        var vectors: [[Float32Value]]?
        var vectorsB64: [String]?
        var functionIds: [Int64]?
        var k: Int?
        var excludeSelf: Bool?
        var excludeDuplicates: Bool?
        var excludeSameRepo: Bool?
        var repos: [String]?
        var nprobe: Int?
        var efSearch: Int?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case vectors, k, repos, nprobe
            case vectorsB64 = "vectors_b64", functionIds = "function_ids", excludeSelf = "exclude_self"
            case excludeDuplicates = "exclude_duplicates", excludeSameRepo = "exclude_same_repo", efSearch = "ef_search"
        }
    }

    static func decode(_ req: RequestContext, space: SpaceRecord) throws -> SearchQuery {
        if req.contentType == "application/x-npy" {
            let array = try NPYArray(data: req.body)
            guard array.shape.last == space.dim, array.shape.count <= 2 else {
                throw APIError.unprocessable("query matrix has shape \(array.shape), space '\(space.name)' has dim \(space.dim)", code: "wrong_dimension")
            }
            var q = SearchQuery(vectors: try array.floats())
            q.k = try req.intQuery("k", default: 10, range: SearchQuery.kRange)
            q.repos = req.query("repos").map { $0.split(separator: ",").map(String.init) }
            q.params = SearchParams(nprobe: req.query("nprobe").flatMap(Int.init), efSearch: req.query("ef_search").flatMap(Int.init))
            return q
        }
        let b = try JSONCodec.decode(Body.self, from: req.body, nonNull: Set(Body.CodingKeys.allCases.map(\.rawValue)))
        let sources = [b.vectors != nil, b.vectorsB64 != nil, b.functionIds != nil].filter { $0 }.count
        guard sources == 1 else {
            throw APIError.badRequest("give exactly one of 'vectors', 'vectors_b64' or 'function_ids'", code: "invalid_query")
        }
        var q: SearchQuery
        if let v = b.vectors {
            for (i, row) in v.enumerated() where row.count != space.dim {
                throw APIError.unprocessable("vectors[\(i)] has \(row.count) values, space '\(space.name)' has dim \(space.dim)", code: "wrong_dimension")
            }
            q = SearchQuery(vectors: v.flatMap { $0.map(\.value) })
        } else if let enc = b.vectorsB64 {
            var values = [Float]()
            for (i, text) in enc.enumerated() {
                guard let d = Data(base64Encoded: text) else {
                    throw APIError.badRequest("vectors_b64[\(i)] is not base64", code: "invalid_base64")
                }
                guard d.count == 4 * space.dim else {
                    throw APIError.unprocessable("vectors_b64[\(i)] must be base64 of \(space.dim) little-endian float32 values", code: "wrong_dimension")
                }
                values += VectorCodec.decode(d, as: .float32)
            }
            q = SearchQuery(vectors: values)
        } else {
            q = SearchQuery(functionIDs: b.functionIds ?? [])
        }
        q.k = b.k ?? 10
        q.excludeSelf = b.excludeSelf ?? true
        q.excludeDuplicates = b.excludeDuplicates ?? false
        q.excludeSameRepo = b.excludeSameRepo ?? false
        q.repos = b.repos
        q.params = SearchParams(nprobe: b.nprobe, efSearch: b.efSearch)
        return q
    }
}
