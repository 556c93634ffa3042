import Core
import Foundation

extension SQLiteStore {
    public func searchScope(_ request: SearchScopeRequest) async throws -> SearchScope {
        let space = request.space
        return try await read { db in
            var scope = SearchScope()
            if let ids = request.queryIDs {
                var facts = [(repo: String, bodyHash: String)?]()
                var missing = [Int64]()
                for id in ids {
                    guard let data = try db.first("SELECT data FROM vectors WHERE space_id = ? AND function_id = ?",
                                                  [.int(space.id), .int(id)], { $0.blob(0) }) else {
                        missing.append(id)
                        continue
                    }
                    VectorCodec.decode(data, as: space.dtype, into: &scope.queries)
                    facts.append(try db.first("SELECT r.name, f.body_hash FROM functions f JOIN repositories r ON r.id = f.repo_id WHERE f.id = ?",
                                              [.int(id)], { (repo: $0.text(0), bodyHash: $0.text(1)) }))
                }
                if !missing.isEmpty { throw StoreError.unknownVectors(space: space.name, ids: missing) }
                // One set per duplicate group and per repository, however many queries share it.
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
                        sets.append(try Self.functionIDs(db, repo: repo))
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
                scope.excludePerQuery = QueryExclusions(sets: sets, setsOfQuery: setsOfQuery)
            }
            if let repos = request.repos {
                var allowed = [Int64]()
                for repo in Set(repos) { allowed += try Self.functionIDs(db, repo: repo) }
                scope.allowOnly = allowed.sorted()
            }
            return scope
        }
    }

    static func functionIDs(_ db: SQLiteConnection, repo: String) throws -> [Int64] {
        try db.all("SELECT f.id FROM functions f JOIN repositories r ON r.id = f.repo_id WHERE r.name = ? ORDER BY f.id", [.text(repo)]) { $0.int(0) }
    }
}
