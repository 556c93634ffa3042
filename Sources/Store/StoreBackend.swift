import Core
import Foundation

/// The source of truth. Every backend (SQLite now, PostgreSQL later) implements this protocol;
/// batches are atomic: a batch that throws leaves the store exactly as it was.
///
/// ```swift
/// let store = try SQLiteStore(directory: dataDir)
/// let summary = try await store.upsertFunctions([input])
/// ```
public protocol StoreBackend: JobStore, CorpusStore, AnalysisStore, Sendable {
    // Functions
    func upsertFunctions(_ items: [FunctionInput]) async throws -> UpsertSummary
    func function(id: Int64) async throws -> FunctionRecord?
    func functions(_ query: FunctionQuery) async throws -> [FunctionRecord]
    func functionSummaries(ids: [Int64]) async throws -> [Int64: FunctionSummary]
    func deleteFunction(id: Int64) async throws -> Bool

    // Spaces and vectors
    func createSpace(_ input: SpaceInput) async throws -> SpaceRecord
    func spaces() async throws -> [SpaceRecord]
    func space(named name: String) async throws -> SpaceRecord?
    func deleteSpace(named name: String) async throws -> Bool
    func setIndexFactory(space: String, factory: String, metric: Metric) async throws
    /// Upserts vectors; returns the space's new generation.
    @discardableResult
    func upsertVectors(space: String, _ batch: VectorBatch) async throws -> Int64
    /// Vectors for `ids` (in that order; unknown ids throw), or every vector of the space when nil.
    func vectors(space: String, ids: [Int64]?) async throws -> VectorBatch
    /// Ids, rows and truncation flags of `vectors(space:ids:)` without the values (for paged reads).
    func vectorLayout(space: String, ids: [Int64]?) async throws -> VectorLayout
    /// Vectors written and deleted after generation `after`, in one snapshot; nil when the record does
    /// not reach back that far or more than `limit` ids changed (see `VectorChanges`).
    func vectorChanges(space: String, after: Int64, limit: Int) async throws -> VectorChanges?

    // Introspection
    /// A trivial query: the store answers (for /healthz).
    func ping() async throws
    func stats() async throws -> StoreStats
    func tableCounts() async throws -> [String: Int]
    var backendName: String { get }
    /// Migration versions this process applied when it opened the store (empty: it was up to date).
    var appliedMigrations: [Int] { get }
}

/// A repository, how many functions it holds and how many of them are duplicates.
///
/// ```swift
/// let r = try await store.repositories().first!
/// Double(r.duplicates) / Double(max(r.functions, 1))   // the repository's duplicate share
/// ```
public struct RepositoryRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var path: String?
    public var functions: Int
    /// Its functions whose body (`body_hash`) some other function of the store has too: the members
    /// of `StoreStats.duplicateGroups` that are in this repository.
    public var duplicates: Int
    public var createdAt: Double
    public var updatedAt: Double
    enum CodingKeys: String, CodingKey {
        case id, name, path, functions, duplicates
        case createdAt = "created_at", updatedAt = "updated_at"
    }
}

extension RepositoryRecord {
    /// One query for both backends: every repository with its function and duplicate counts (a
    /// duplicate's body hash is in a group of two or more; `functions_body_hash` serves the grouping).
    static let listSQL = """
        WITH dup AS (SELECT body_hash FROM functions GROUP BY body_hash HAVING COUNT(*) > 1)
        SELECT r.id, r.name, r.path, COUNT(f.id), COUNT(d.body_hash), r.created_at, r.updated_at
        FROM repositories r
        LEFT JOIN functions f ON f.repo_id = r.id
        LEFT JOIN dup d ON d.body_hash = f.body_hash
        GROUP BY r.id, r.name, r.path, r.created_at, r.updated_at
        ORDER BY r.name
        """
}

/// Corpus-level operations (ingest): repositories and pruning of functions that vanished.
public protocol CorpusStore: Sendable {
    func repositories() async throws -> [RepositoryRecord]
    /// Records where a repository was ingested from (creating it if needed).
    func setRepositoryPath(name: String, path: String) async throws
    /// Deletes the repository's functions whose ids are not in `keep`; returns how many went.
    func pruneFunctions(repo: String, keep: [Int64]) async throws -> Int
    /// A repository's whole set of functions, in one transaction: upserts `functions` (all of repo
    /// `name`) as `upsertFunctions` does, deletes the repository's other functions as `pruneFunctions`
    /// does, and records `path` when given. Nothing changes when it throws.
    func replaceRepository(_ name: String, path: String?, functions: [FunctionInput]) async throws -> ReplaceSummary
    /// Functions (optionally of one repository) lacking a fresh vector in at least one of `spaces`.
    func functionsMissingVectors(spaces: [String], repo: String?) async throws -> [Int64]
    /// Signature and body of functions, in the order of `ids` (unknown ids are skipped).
    func functionTexts(ids: [Int64]) async throws -> [(id: Int64, signature: String, body: String)]
    /// Repository and duplicate-group key (body hash) of functions, and their properties.
    func functionFacts(ids: [Int64]) async throws -> [Int64: FunctionFacts]
    /// Query vectors and filter id lists of a search, in one snapshot (see `SearchScope`).
    func searchScope(_ request: SearchScopeRequest) async throws -> SearchScope
}

/// What analysis and training need to know of a function besides its vectors.
public struct FunctionFacts: Sendable, Equatable {
    public var repo: String
    public var bodyHash: String
    public var properties: JSONValue
    public init(repo: String, bodyHash: String, properties: JSONValue) {
        self.repo = repo; self.bodyHash = bodyHash; self.properties = properties
    }
}
