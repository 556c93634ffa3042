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
                let numbers = try SearchRequest.wantsNumbers(req)
                let space = try await requireSpace(ctx, req.param("name"))
                var query = try SearchRequest.decode(req, space: space)
                if numbers { query.summaries = false }  // ids and scores only: no store work for summaries
                let answer = try await search.search(query, in: space)
                return numbers ? try .npz(SearchRequest.arrays(answer)) : try .json(answer)
            },
            Route("POST", "/v1/spaces/{name}/index") { req in
                struct Body: Decodable {
                    var factory: String; var metric: Metric?; var targetRecall: Double?
                    enum CodingKeys: String, CodingKey { case factory, metric, targetRecall = "target_recall" }
                }
                let body = try JSONCodec.decode(Body.self, from: req.body, nonNull: ["factory", "metric", "target_recall"])
                let space = try await requireSpace(ctx, req.param("name"))
                let started = Date()
                let info = try await search.reindex(space: space.name, factory: body.factory, metric: body.metric ?? space.metric,
                                                    targetRecall: body.targetRecall)
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

/// `GET/POST /v1/spaces/{name}/index`: the index, its default knob values (calibrated when it has a
/// curve), its target recall and, for approximate indexes, the measured recall curve.
struct IndexInfoJSON: Encodable {
    var space: String, factory: String, metric: String, dim: Int, count: Int, generation: UInt64
    var nprobe: Int?, efSearch: Int?, efConstruction: Int?, seconds: Double?
    var targetRecall: Double, calibrating: Bool, recall: RecallJSON?
    enum CodingKeys: String, CodingKey {
        case space, factory, metric, dim, count, generation, nprobe, seconds, calibrating, recall
        case efSearch = "ef_search", efConstruction = "ef_construction", targetRecall = "target_recall"
    }
    init(_ i: IndexInfo, seconds: Double?) {
        space = i.space; factory = i.factory.string; dim = i.dim; count = i.count
        metric = i.metric.rawValue
        generation = i.generation; nprobe = i.defaultNprobe; efSearch = i.defaultEfSearch; self.seconds = seconds
        efConstruction = i.efConstruction
        targetRecall = i.calibration.targetRecall
        calibrating = i.calibrating
        recall = i.calibration.curve.map { RecallJSON($0, target: i.calibration.targetRecall) }
    }
}

/// A recall curve on the wire: what was measured, and the knob value the target picks.
struct RecallJSON: Encodable {
    struct Chosen: Encodable { var value: Int, recall: Double, reached: Bool }
    var knob: String, k: Int, queries: Int, seed: UInt64, generation: UInt64, count: Int, measuredAt: Double
    var heldOut: Bool
    var points: [RecallCurve.Point]
    var chosen: Chosen?
    enum CodingKeys: String, CodingKey {
        case knob, k, queries, seed, generation, count, points, chosen
        case measuredAt = "measured_at", heldOut = "held_out"
    }
    init(_ c: RecallCurve, target: Double) {
        knob = c.knob.rawValue; k = c.k; queries = c.queries; seed = c.seed; generation = c.generation
        heldOut = c.heldOut
        count = c.count; measuredAt = c.measuredAt; points = c.points
        chosen = c.choose(target: target).map { Chosen(value: $0.value, recall: $0.recall, reached: $0.reached) }
    }
}

/// The wire forms of a search (JSON with vectors, base64 float32 rows, function ids or texts; a `.npy`
/// matrix with query parameters) decoded into one `SearchQuery`; the service checks the rest.
enum SearchRequest {
    struct Body: Decodable {
        var vectors: [[Float32Value]]?
        var vectorsB64: [String]?
        var functionIds: [Int64]?
        var texts: [String]?
        var k: Int?
        var excludeSelf: Bool?
        var excludeDuplicates: Bool?
        var excludeSameRepo: Bool?
        var repos: [String]?
        var nprobe: Int?
        var efSearch: Int?
        var targetRecall: Double?
        var fields: String?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case vectors, texts, k, repos, nprobe, fields, targetRecall = "target_recall"
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
            // Strict: a knob that is present but not an integer in range is a 400, never ignored.
            q.params = SearchParams(nprobe: try req.optionalInt64Query("nprobe", range: 1...1_000_000).map(Int.init),
                                    efSearch: try req.optionalInt64Query("ef_search", range: 1...100_000).map(Int.init),
                                    targetRecall: try targetRecallQuery(req))
            q.summaries = try summaries(req.query("fields"))
            return q
        }
        let b = try JSONCodec.decode(Body.self, from: req.body, nonNull: Set(Body.CodingKeys.allCases.map(\.rawValue)))
        let sources = [b.vectors != nil, b.vectorsB64 != nil, b.functionIds != nil, b.texts != nil].filter { $0 }.count
        guard sources == 1 else {
            throw APIError.badRequest("give exactly one of 'vectors', 'vectors_b64', 'function_ids' or 'texts'", code: "invalid_query")
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
        } else if let texts = b.texts {
            q = SearchQuery(texts: texts)  // embedded by the service, as the space's vectors were made
        } else {
            q = SearchQuery(functionIDs: b.functionIds ?? [])
        }
        q.k = b.k ?? 10
        q.excludeSelf = b.excludeSelf ?? true
        q.excludeDuplicates = b.excludeDuplicates ?? false
        q.excludeSameRepo = b.excludeSameRepo ?? false
        q.repos = b.repos
        q.params = SearchParams(nprobe: b.nprobe, efSearch: b.efSearch, targetRecall: b.targetRecall)
        q.summaries = try summaries(b.fields ?? req.query("fields"))
        return q
    }

    /// True when the answer goes out as numbers only (`Accept: application/x-npz` or
    /// `application/x-npy`, or `?format=npz`): an `.npz` of `arrays(_:)`.
    static func wantsNumbers(_ req: RequestContext) throws -> Bool {
        if let f = try req.checkFormat(["json", "npz"]) { return f == "npz" }
        let accept = req.header("Accept") ?? ""
        return accept.contains("application/x-npz") || accept.contains("application/x-npy")
    }

    /// An answer as numbers: `ids` (int64, queries × k, -1 past a query's last hit), `scores`
    /// (float32, queries × k, NaN there) and `queries` (int64: the query row or function id).
    ///
    ///     ids, scores = z["ids"], z["scores"]    # numpy: np.load(io.BytesIO(r.content))
    static func arrays(_ answer: SearchAnswer) -> [String: NPYArray] {
        let n = answer.results.count, k = answer.k
        var ids = [Int64](repeating: -1, count: n * k)
        var scores = [Float](repeating: .nan, count: n * k)
        for (r, result) in answer.results.enumerated() {
            for (j, hit) in result.hits.prefix(k).enumerated() {
                ids[r * k + j] = hit.id
                scores[r * k + j] = Float(hit.score)
            }
        }
        return ["ids": NPYArray(int64s: ids, shape: [n, k]), "scores": NPYArray(floats: scores, shape: [n, k]),
                "queries": NPYArray(int64s: answer.results.map(\.query))]
    }

    /// `fields`: `summary` (the default: hits with repo, path, name, signature) or `ids` (ids and
    /// scores only, no store work per request); anything else is a 400 `invalid_fields`.
    static func summaries(_ fields: String?) throws -> Bool {
        switch fields {
        case nil, "", "summary": return true
        case "ids": return false
        case let other?: throw APIError.badRequest("fields must be 'summary' or 'ids', got '\(other)'", code: "invalid_fields")
        }
    }

    /// `?target_recall=0.9`: nil when absent, a 400 `invalid_target_recall` when not a number.
    static func targetRecallQuery(_ req: RequestContext) throws -> Double? {
        guard let text = req.query("target_recall"), !text.isEmpty else { return nil }
        guard let t = Double(text), t.isFinite else {
            throw APIError.badRequest("query parameter 'target_recall' must be a number in 0.01...1, got '\(text)'", code: "invalid_target_recall")
        }
        return t
    }
}
