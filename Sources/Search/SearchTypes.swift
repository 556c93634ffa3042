import Core

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
    /// Instead of `nprobe` / `efSearch`: the recall@10 wanted, turned into a knob value by the
    /// index's measured recall curve (`IndexCatalog` searches only; exact indexes ignore it).
    public var targetRecall: Double?

    public init(nprobe: Int? = nil, efSearch: Int? = nil, threads: Int? = nil, targetRecall: Double? = nil) {
        self.nprobe = nprobe
        self.efSearch = efSearch
        self.threads = threads
        self.targetRecall = targetRecall
    }

    /// `targetRecall` must lie in `RecallCalibration.targetRange` and cannot come with a knob value.
    public func validateTarget() throws {
        guard let t = targetRecall else { return }
        guard RecallCalibration.targetRange.contains(t) else {
            throw SearchError.invalidParameter("target_recall must be in 0.01...1, got \(t)")
        }
        if nprobe != nil || efSearch != nil {
            throw SearchError.invalidParameter("give target_recall or nprobe / ef_search, not both")
        }
    }
}

/// Which ids a search may return. The caller turns store metadata (the query function itself,
/// its duplicate group, its repository, a repository allow-list) into id lists:
/// - `allowOnly`: when set, only these ids may be returned (e.g. "restrict to repositories").
/// - `exclude`: never returned, for every query in the batch.
/// - `perQuery`: shared exclusion sets and, per query, the sets it excludes (e.g. the query
///   function, its duplicate group, its repository's functions); exactly one entry per query
///   when set. A repository's set is stored once however many of its functions are queries.
/// Lists need not be sorted or unique; ids absent from the index are ignored.
///
///     let f = SearchFilter(excludePerQuery: queryIDs.map { [$0] })   // never return oneself
///     let g = SearchFilter(allowOnly: idsOfRepos, exclude: dupGroup)
///     let h = SearchFilter(perQuery: QueryExclusions(sets: [repoIDs, [12], [40]], setsOfQuery: [[0, 1], [0, 2]]))
public struct SearchFilter: Sendable, Hashable {
    public var allowOnly: [Int64]?
    public var exclude: [Int64]
    public var perQuery: QueryExclusions?

    public static let none = SearchFilter()

    public init(allowOnly: [Int64]? = nil, exclude: [Int64] = [], perQuery: QueryExclusions? = nil) {
        self.allowOnly = allowOnly
        self.exclude = exclude
        self.perQuery = perQuery
    }

    /// One private exclusion list per query (`lists[i]` for query i).
    public init(allowOnly: [Int64]? = nil, exclude: [Int64] = [], excludePerQuery lists: [[Int64]]?) {
        self.init(allowOnly: allowOnly, exclude: exclude, perQuery: lists.map(QueryExclusions.init(lists:)))
    }

    public var isEmpty: Bool { allowOnly == nil && exclude.isEmpty && perQuery == nil }
}
