import Core
import Foundation

/// What a search needs from the store besides the index, read in one snapshot: the stored vectors of
/// query functions, and the ids each query must not return (itself, its duplicate group, its
/// repository) or the only ids it may return (`repos`). Query functions without a vector in the
/// space throw `StoreError.unknownVectors` naming every one.
///
/// ```swift
/// var r = SearchScopeRequest(space: space, queryIDs: [12, 40])
/// r.excludeDuplicates = true
/// let scope = try await store.searchScope(r)   // scope.queries: 2 × dim, scope.excludePerQuery: sets shared per group
/// ```
public struct SearchScopeRequest: Sendable {
    public var space: SpaceRecord
    /// Functions whose stored vectors are the queries (nil: the caller has query vectors).
    public var queryIDs: [Int64]?
    public var excludeSelf: Bool
    /// Every function with the query's body hash.
    public var excludeDuplicates: Bool
    /// Every function of the query's repository.
    public var excludeSameRepo: Bool
    /// Only functions of these repositories may be returned.
    public var repos: [String]?

    public init(space: SpaceRecord, queryIDs: [Int64]? = nil, excludeSelf: Bool = true, excludeDuplicates: Bool = false,
                excludeSameRepo: Bool = false, repos: [String]? = nil) {
        self.space = space
        self.queryIDs = queryIDs
        self.excludeSelf = excludeSelf
        self.excludeDuplicates = excludeDuplicates
        self.excludeSameRepo = excludeSameRepo
        self.repos = repos
    }
}

public struct SearchScope: Sendable, Equatable {
    /// The query functions' vectors, row-major in the order of `queryIDs` (empty without them).
    public var queries: [Float] = []
    /// Per query function, ids it must not return (nil without query functions): one set per
    /// repository and per duplicate group named by the request, shared by its queries, plus each
    /// query's own id.
    public var excludePerQuery: QueryExclusions?
    /// Ids that may be returned (nil: any).
    public var allowOnly: [Int64]?
    public init() {}
}
