/// One search result: the stored id (a function id) and its score (cosine / inner product:
/// higher is closer; l2: squared distance, lower is closer).
public struct Hit: Sendable, Hashable, Codable {
    public var id: Int64
    public var score: Float

    public init(id: Int64, score: Float) {
        self.id = id
        self.score = score
    }
}

/// Per-search knobs. `nil` keeps the index default (IVF: nprobe = min(nlist, 16); HNSW:
/// efSearch = 64, and never below k). Ignored by index types without that knob.
///
///     let p = SearchParams(nprobe: 32)            // IVF: scan 32 lists
///     let q = SearchParams(efSearch: 256)         // HNSW: wider beam, better recall
public struct SearchParams: Sendable, Hashable {
    public var nprobe: Int?
    public var efSearch: Int?
    /// OpenMP threads for this call (nil: `SearchExecutor.defaultOmpThreads`, normally 1).
    public var threads: Int?

    public init(nprobe: Int? = nil, efSearch: Int? = nil, threads: Int? = nil) {
        self.nprobe = nprobe
        self.efSearch = efSearch
        self.threads = threads
    }
}

/// Which ids a search may return. The caller turns store metadata (the query function itself,
/// its duplicate group, its repository, a repository allow-list) into id lists:
/// - `allowOnly`: when set, only these ids may be returned (e.g. "restrict to repositories").
/// - `exclude`: never returned, for every query in the batch.
/// - `excludePerQuery`: one list per query (e.g. the query function and its duplicate group /
///   same-repository functions); must have exactly one entry per query when set.
/// Lists need not be sorted or unique; ids absent from the index are ignored.
///
///     let f = SearchFilter(excludePerQuery: queryIDs.map { [$0] })   // never return oneself
///     let g = SearchFilter(allowOnly: idsOfRepos, exclude: dupGroup)
public struct SearchFilter: Sendable, Hashable {
    public var allowOnly: [Int64]?
    public var exclude: [Int64]
    public var excludePerQuery: [[Int64]]?

    public static let none = SearchFilter()

    public init(allowOnly: [Int64]? = nil, exclude: [Int64] = [], excludePerQuery: [[Int64]]? = nil) {
        self.allowOnly = allowOnly
        self.exclude = exclude
        self.excludePerQuery = excludePerQuery
    }

    public var isEmpty: Bool { allowOnly == nil && exclude.isEmpty && excludePerQuery == nil }
}
