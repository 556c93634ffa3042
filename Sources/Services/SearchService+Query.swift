import Core
import Foundation
import Search
import Store

/// One search request as the service understands it, whatever its wire format (JSON, `.npy`).
///
/// ```swift
/// var q = SearchQuery(functionIDs: [12])
/// q.k = 5
/// q.excludeDuplicates = true
/// let answer = try await search.search(q, in: space)
/// ```
public struct SearchQuery: Sendable {
    public enum Source: Sendable {
        /// Row-major query vectors, n × dim.
        case vectors([Float])
        /// Functions whose stored vectors in the space are the queries.
        case functions([Int64])
        /// Texts embedded as the space's vectors were made (`SearchService+Text.swift`).
        case texts([String])
    }

    public static let kRange = 1...1000
    public static let maxFunctionIDs = 10_000

    public var source: Source
    public var k = 10
    /// Function queries only: the query function itself is not a hit (default on).
    public var excludeSelf = true
    /// Function queries only: functions with the query's body (its duplicate group) are not hits.
    public var excludeDuplicates = false
    /// Function queries only: functions of the query's repository are not hits (422 with texts or vectors).
    public var excludeSameRepo = false
    /// Only functions of these repositories are hits.
    public var repos: [String]?
    public var params = SearchParams()
    /// Whether hits carry their function's summary (repo, path, name, signature: one store query per
    /// request); without, hits are ids and scores only and the store is not asked.
    public var summaries = true

    public init(vectors: [Float]) { source = .vectors(vectors) }
    public init(functionIDs: [Int64]) { source = .functions(functionIDs) }
    public init(texts: [String]) { source = .texts(texts) }

    var functionIDs: [Int64]? {
        if case .functions(let ids) = source { return ids }
        return nil
    }

    /// Checks sizes and combinations before any work: a 400 for what the spec's schema says (k, empty
    /// lists), a 422 for rules between fields or against the space (dimension, filters that need ids).
    public func validate(dim: Int) throws {
        guard Self.kRange.contains(k) else { throw APIError.badRequest("k must be in 1...1000, got \(k)", code: "invalid_k") }
        try SearchService.checkTarget(params.targetRecall)
        if params.targetRecall != nil, params.nprobe != nil || params.efSearch != nil {
            throw APIError.unprocessable("give target_recall or nprobe / ef_search, not both", code: "conflicting_parameters")  // a rule between fields: 422
        }
        switch source {
        case .functions(let ids):
            guard !ids.isEmpty, ids.count <= Self.maxFunctionIDs else {
                throw APIError.badRequest("function_ids must hold 1 to \(Self.maxFunctionIDs) ids", code: "invalid_query")
            }
        case .vectors(let v):
            guard !v.isEmpty else { throw APIError.badRequest("no query vectors", code: "invalid_query") }
            guard dim > 0, v.count % dim == 0 else {
                throw APIError.unprocessable("query values (\(v.count)) are not a whole number of rows of dim \(dim)", code: "wrong_dimension")
            }
            if excludeDuplicates || excludeSameRepo {
                throw APIError.unprocessable("exclude_duplicates and exclude_same_repo need function_ids queries", code: "invalid_query")
            }
            if let bad = v.withUnsafeBufferPointer(VectorCodec.firstNonFinite) {
                throw APIError.badRequest("query value \(bad % dim) of row \(bad / dim) is NaN or infinite", code: "non_finite")
            }
        case .texts(let texts):
            guard !texts.isEmpty, texts.count <= SearchService.maxTexts else {
                throw APIError.badRequest("texts must hold 1 to \(SearchService.maxTexts) strings", code: "invalid_query")
            }
            for (i, t) in texts.enumerated() {
                guard !t.isEmpty else { throw APIError.badRequest("texts[\(i)] is empty", code: "invalid_query") }
                guard t.unicodeScalars.count <= SearchService.maxTextCharacters else {
                    throw APIError.badRequest("texts[\(i)] has \(t.unicodeScalars.count) characters; at most \(SearchService.maxTextCharacters)",
                                              code: "text_too_long")
                }
            }
            if excludeDuplicates || excludeSameRepo {
                throw APIError.unprocessable("exclude_duplicates and exclude_same_repo need function_ids queries, not texts", code: "invalid_query")
            }
        }
    }
}

/// The answer to a `SearchQuery`: per query (a row number or a function id), its hits with what a
/// reader needs to recognise them.
public struct SearchAnswer: Encodable, Sendable {
    public struct Hit: Encodable, Sendable {
        public var id: Int64
        public var score: Double
        public var repo: String?
        public var path: String?
        public var qualifiedName: String?
        public var signature: String?
        enum CodingKeys: String, CodingKey {
            case id, score, repo, path, signature
            case qualifiedName = "qualified_name"
        }
    }
    public struct Result: Encodable, Sendable {
        public var hits: [Hit]
        /// The query's row (vector queries) or function id.
        public var query: Int64
    }
    public var space: String
    public var k: Int
    public var results: [Result]
}

extension SearchService {
    /// Runs a validated query: the store gives the query vectors and filter lists in one snapshot,
    /// the space's index (brought up to date first) the hits, the store their summaries.
    public func search(_ query: SearchQuery, in space: SpaceRecord) async throws -> SearchAnswer {
        try query.validate(dim: space.dim)
        var queries: [Float] = []
        switch query.source {
        case .vectors(let v): queries = v
        case .texts(let texts): queries = try await textQueries(texts, in: space)
        case .functions: break
        }
        var filter = SearchFilter()
        let ids = query.functionIDs
        if ids != nil || query.repos != nil {
            let scope: SearchScope
            do {
                scope = try await store.searchScope(SearchScopeRequest(
                    space: space, queryIDs: ids, excludeSelf: query.excludeSelf, excludeDuplicates: query.excludeDuplicates,
                    excludeSameRepo: query.excludeSameRepo, repos: query.repos))
            } catch let e as StoreError {
                guard case .unknownVectors = e else { throw e }
                throw APIError.unprocessable(e.description + " (unknown function, or not embedded in this space)", code: "unknown_function")
            }
            if ids != nil { queries = scope.queries }
            filter.perQuery = scope.excludePerQuery
            filter.allowOnly = scope.allowOnly
        }
        let results = try await search(space: space, queries: queries, k: query.k, params: query.params, filter: filter)
        // Summaries in one query for the whole request, and only when asked for.
        let summaries = query.summaries ? try await store.functionSummaries(ids: results.flatMap { $0.map(\.id) }) : [:]
        return SearchAnswer(space: space.name, k: query.k, results: results.enumerated().map { i, hits in
            SearchAnswer.Result(hits: hits.map { h in
                guard query.summaries else { return SearchAnswer.Hit(id: h.id, score: Double(h.score)) }
                let s = summaries[h.id]
                return SearchAnswer.Hit(id: h.id, score: Double(h.score), repo: s?.repo ?? "", path: s?.path ?? "",
                                        qualifiedName: s?.qualifiedName ?? "", signature: s?.signature ?? "")
            }, query: ids.map { $0[i] } ?? Int64(i))
        })
    }
}
