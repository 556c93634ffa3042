/// The ids each query of a batch must not return, as shared sets: a query names the sets it
/// excludes (its own id, its duplicate group, its repository) by index, so 4,000 queries from one
/// 20,000-function repository hold that repository's ids once, not 4,000 times (memory and work
/// grow with the ids named, not with queries × group size).
///
/// ```swift
/// // Queries 12 and 40 are both in repository A (ids 12, 13, 40); each also excludes itself.
/// let ex = QueryExclusions(sets: [[12, 13, 40], [12], [40]], setsOfQuery: [[1, 0], [2, 0]])
/// ex.excluded(byQuery: 1)          // [12, 13, 40]
/// let own = QueryExclusions(lists: [[12], [40]])   // one private set per query
/// ```
public struct QueryExclusions: Sendable, Hashable {
    /// The distinct id sets (need not be sorted or unique; ids unknown to an index are ignored).
    public var sets: [[Int64]]
    /// Per query, the indices into `sets` it excludes.
    public var setsOfQuery: [[Int]]

    public init(sets: [[Int64]], setsOfQuery: [[Int]]) {
        self.sets = sets
        self.setsOfQuery = setsOfQuery
    }

    /// One set per query (query i excludes `lists[i]`).
    public init(lists: [[Int64]]) {
        self.init(sets: lists, setsOfQuery: lists.indices.map { [$0] })
    }

    /// How many queries this describes.
    public var queryCount: Int { setsOfQuery.count }

    /// Every id query `i` excludes (sorted, unique); for tests and small batches.
    public func excluded(byQuery i: Int) -> [Int64] {
        Set(setsOfQuery[i].flatMap { sets[$0] }).sorted()
    }

    /// Checks that every reference names a set; returns a reason when one does not.
    public var invalidReference: String? {
        for (q, refs) in setsOfQuery.enumerated() {
            if let bad = refs.first(where: { !sets.indices.contains($0) }) {
                return "query \(q) refers to exclusion set \(bad) of \(sets.count)"
            }
        }
        return nil
    }
}
