import Core

extension SearchScope {
    /// The exclusion sets of a function-id search, read on either backend: one set per duplicate
    /// group and per repository however many queries share it, plus each query's own id.
    /// `facts[i]` is the (repository, body hash) of `ids[i]` (nil when the function is gone).
    static func exclusions(_ db: some SQLConnection, ids: [Int64], facts: [(repo: String, bodyHash: String)?],
                           request: SearchScopeRequest) throws -> QueryExclusions {
        var sets = [[Int64]]()
        var groupSet = [String: Int](), repoSet = [String: Int]()
        if request.excludeDuplicates {
            for h in Set(facts.compactMap { $0?.bodyHash }) {
                groupSet[h] = sets.count
                sets.append(try db.all("SELECT id FROM functions WHERE body_hash = ? ORDER BY id", [.text(h)]) { $0.int(0) })
            }
        }
        if request.excludeSameRepo {
            for repo in Set(facts.compactMap { $0?.repo }) {
                repoSet[repo] = sets.count
                sets.append(try functionIDs(db, repo: repo))
            }
        }
        var setsOfQuery = [[Int]]()
        setsOfQuery.reserveCapacity(ids.count)
        for (id, f) in zip(ids, facts) {
            var refs = [Int]()
            if request.excludeSelf {
                refs.append(sets.count)
                sets.append([id])
            }
            if let f {
                if request.excludeDuplicates, let g = groupSet[f.bodyHash] { refs.append(g) }
                if request.excludeSameRepo, let r = repoSet[f.repo] { refs.append(r) }
            }
            setsOfQuery.append(refs)
        }
        return QueryExclusions(sets: sets, setsOfQuery: setsOfQuery)
    }

    /// The ids of functions in `repos` (ascending), for a search restricted to them.
    static func allowed(_ db: some SQLConnection, repos: [String]) throws -> [Int64] {
        var allowed = [Int64]()
        for repo in Set(repos) { allowed += try functionIDs(db, repo: repo) }
        return allowed.sorted()
    }

    static func functionIDs(_ db: some SQLConnection, repo: String) throws -> [Int64] {
        try db.all("SELECT f.id FROM functions f JOIN repositories r ON r.id = f.repo_id WHERE r.name = ? ORDER BY f.id", [.text(repo)]) { $0.int(0) }
    }
}
