import Core
import Foundation

/// A function as a client sends it for upsert. Keyed by (repo, path, qualified name).
public struct FunctionInput: Codable, Sendable, Equatable {
    /// Fields the API does not document as nullable: `null` there is a 400 (`language`, `properties`,
    /// `content_hash` and `body_hash` may be null, meaning their default).
    public static let nonNullFields: Set<String> = ["repo", "path", "qualified_name", "start_line", "end_line", "signature", "body"]
    /// Free-form JSON: `properties`.
    public static let opaque: Set<String> = ["properties"]
    public var repo: String
    public var path: String
    public var qualifiedName: String
    public var language: String?
    public var startLine: Int
    public var endLine: Int
    public var signature: String
    public var body: String
    public var properties: JSONValue?
    /// Optional; computed from signature + body when absent.
    public var contentHash: String?
    /// Optional; computed from the normalised body when absent (the duplicate group key).
    public var bodyHash: String?

    enum CodingKeys: String, CodingKey {
        case repo, path, language, signature, body, properties
        case qualifiedName = "qualified_name", startLine = "start_line", endLine = "end_line"
        case contentHash = "content_hash", bodyHash = "body_hash"
    }

    public init(repo: String, path: String, qualifiedName: String, language: String? = "python",
                startLine: Int, endLine: Int, signature: String, body: String,
                properties: JSONValue? = nil, contentHash: String? = nil, bodyHash: String? = nil) {
        self.repo = repo; self.path = path; self.qualifiedName = qualifiedName; self.language = language
        self.startLine = startLine; self.endLine = endLine; self.signature = signature; self.body = body
        self.properties = properties; self.contentHash = contentHash; self.bodyHash = bodyHash
    }

    /// A function with the properties ingestion computes, stored as one flat snake_case object.
    public init(repo: String, path: String, qualifiedName: String, language: String? = "python",
                startLine: Int, endLine: Int, signature: String, body: String,
                properties: StoredProperties, contentHash: String? = nil, bodyHash: String? = nil) {
        self.init(repo: repo, path: path, qualifiedName: qualifiedName, language: language, startLine: startLine, endLine: endLine,
                  signature: signature, body: body, properties: try? JSONValue.from(properties), contentHash: contentHash, bodyHash: bodyHash)
    }
}

/// A stored function.
public struct FunctionRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var repo: String
    public var path: String
    public var qualifiedName: String
    public var language: String
    public var startLine: Int
    public var endLine: Int
    public var signature: String
    public var body: String
    public var contentHash: String
    public var bodyHash: String
    public var properties: JSONValue
    public var createdAt: Double
    public var updatedAt: Double

    enum CodingKeys: String, CodingKey {
        case id, repo, path, language, signature, body, properties
        case qualifiedName = "qualified_name", startLine = "start_line", endLine = "end_line"
        case contentHash = "content_hash", bodyHash = "body_hash", createdAt = "created_at", updatedAt = "updated_at"
    }
}

/// Outcome of a batch upsert: the id of every input, in input order.
public struct UpsertSummary: Codable, Sendable, Equatable {
    public var ids: [Int64]
    public var created: Int
    public var updated: Int
    public var unchanged: Int
}

/// What replacing a repository's functions did (`StoreBackend.replaceRepository`).
///
/// ```swift
/// let r = try await store.replaceRepository("demo", path: nil, functions: inputs)
/// r.removed   // functions of "demo" not in `inputs`, deleted with their vectors
/// ```
public struct ReplaceSummary: Codable, Sendable, Equatable {
    public var ids: [Int64]
    public var created: Int
    public var updated: Int
    public var unchanged: Int
    public var removed: Int
    public init(ids: [Int64], created: Int, updated: Int, unchanged: Int, removed: Int) {
        self.ids = ids; self.created = created; self.updated = updated; self.unchanged = unchanged; self.removed = removed
    }
}

/// Filters and cursor for listing functions (`GET /v1/functions`). Every filter is literal and
/// case-sensitive on both backends (`%`, `_` and `\\` are plain characters); an empty one is no filter.
///
/// ```swift
/// let page = try await store.functions(FunctionQuery(repo: "demo", path: "src/io/", signature: "path", limit: 100))
/// ```
public struct FunctionQuery: Sendable {
    /// Exactly this repository.
    public var repo: String?
    /// Prefix of the file path (`src/io/` matches `src/io/json.py`; a whole path matches that file).
    public var path: String?
    /// Substring of the qualified name or of the path (`?q=`).
    public var text: String?
    /// Substring of the signature (decorators, `def` line, docstring).
    public var signature: String?
    public var limit: Int
    /// Return functions with id greater than this (the previous page's `next_cursor`).
    public var after: Int64?

    public init(repo: String? = nil, path: String? = nil, text: String? = nil, signature: String? = nil,
                limit: Int = 100, after: Int64? = nil) {
        self.repo = repo; self.path = path; self.text = text; self.signature = signature; self.limit = limit; self.after = after
    }
}

/// A small summary of a function used by search hits.
public struct FunctionSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var repo: String
    public var path: String
    public var qualifiedName: String
    public var signature: String
    public var bodyHash: String
    enum CodingKeys: String, CodingKey {
        case id, repo, path, signature
        case qualifiedName = "qualified_name", bodyHash = "body_hash"
    }
}

/// A space as a client creates it.
public struct SpaceInput: Codable, Sendable, Equatable {
    public var name: String
    public var model: String?
    public var layer: Int?
    public var kind: SpaceKind
    public var dim: Int
    /// Storage type; nil: the kind's default (`SpaceKind.defaultDType`: float16 for `body_tokens`).
    public var dtype: VectorDType?
    public var metric: Metric?
    public var indexFactory: String?

    enum CodingKeys: String, CodingKey {
        case name, model, layer, kind, dim, dtype, metric
        case indexFactory = "index_factory"
    }

    public init(name: String, model: String? = nil, layer: Int? = nil, kind: SpaceKind, dim: Int,
                dtype: VectorDType? = nil, metric: Metric? = nil, indexFactory: String? = nil) {
        self.name = name; self.model = model; self.layer = layer; self.kind = kind; self.dim = dim
        self.dtype = dtype; self.metric = metric; self.indexFactory = indexFactory
    }

    /// `dtype`, `metric` and `index_factory` may be left out (for their defaults) but not sent as
    /// `null`: a null there is a client mistake, not a choice (a decoding error, so a 400).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func noNull(_ key: CodingKeys, _ type: Any.Type) throws {
            if c.contains(key), try c.decodeNil(forKey: key) {
                throw DecodingError.valueNotFound(type, .init(codingPath: c.codingPath + [key],
                                                              debugDescription: "\(key.stringValue) may be omitted but not null"))
            }
        }
        try noNull(.dtype, VectorDType.self)
        try noNull(.metric, Metric.self)
        try noNull(.indexFactory, String.self)
        name = try c.decode(String.self, forKey: .name)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        layer = try c.decodeIfPresent(Int.self, forKey: .layer)
        kind = try c.decode(SpaceKind.self, forKey: .kind)
        dim = try c.decode(Int.self, forKey: .dim)
        dtype = try c.decodeIfPresent(VectorDType.self, forKey: .dtype)
        metric = try c.decodeIfPresent(Metric.self, forKey: .metric)
        indexFactory = try c.decodeIfPresent(String.self, forKey: .indexFactory)
    }
}

/// A stored space and how many vectors it holds.
public struct SpaceRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var model: String
    public var layer: Int?
    public var kind: SpaceKind
    public var dim: Int
    public var dtype: VectorDType
    public var metric: Metric
    public var indexFactory: String
    public var generation: Int64
    public var count: Int
    public var stale: Int
    public var createdAt: Double

    enum CodingKeys: String, CodingKey {
        case id, name, model, layer, kind, dim, dtype, metric, generation, count, stale
        case indexFactory = "index_factory", createdAt = "created_at"
    }
}

/// Store-wide numbers for `/v1/stats` and `/metrics`.
public struct StoreStats: Codable, Sendable, Equatable {
    public var repositories: Int
    public var functions: Int
    public var duplicateGroups: Int
    public var spaces: Int
    public var vectors: Int
    public var jobs: [String: Int]
    public var databaseBytes: Int64
    enum CodingKeys: String, CodingKey {
        case repositories, functions, spaces, vectors, jobs
        case duplicateGroups = "duplicate_groups", databaseBytes = "database_bytes"
    }
}

/// A space's vectors without their values: ids, rows per id (1, or the token count) and
/// truncation flags. A download reads it first, then the values in pages of ids.
///
/// ```swift
/// let layout = try await store.vectorLayout(space: "m.L3.body_mean", ids: nil)
/// for page in layout.pages(maxRows: 512) { _ = try await store.vectors(space: "m.L3.body_mean", ids: Array(layout.ids[page])) }
/// ```
public struct VectorLayout: Sendable, Equatable {
    public var ids: [Int64] = []
    public var rows: [Int] = []
    public var truncated: [Bool] = []
    public init() {}

    /// Total rows (vectors) over all ids.
    public var totalRows: Int { rows.reduce(0, +) }

    /// Consecutive index ranges holding at most `maxRows` rows each (at least one id per range).
    public func pages(maxRows: Int) -> [Range<Int>] {
        var out = [Range<Int>](), start = 0, acc = 0
        for (i, r) in rows.enumerated() {
            if i > start, acc + r > maxRows {
                out.append(start..<i)
                start = i; acc = 0
            }
            acc += r
        }
        if start < rows.count { out.append(start..<rows.count) }
        return out
    }
}
