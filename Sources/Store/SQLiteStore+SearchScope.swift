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
                var groups = [String: [Int64]]()
                if request.excludeDuplicates {
                    for h in Set(facts.compactMap { $0?.bodyHash }) {
                        groups[h] = try db.all("SELECT id FROM functions WHERE body_hash = ? ORDER BY id", [.text(h)]) { $0.int(0) }
                    }
                }
                var members = [String: [Int64]]()
                if request.excludeSameRepo {
                    for repo in Set(facts.compactMap { $0?.repo }) { members[repo] = try Self.functionIDs(db, repo: repo) }
                }
                scope.excludePerQuery = zip(ids, facts).map { id, f in
                    var ex = request.excludeSelf ? [id] : []
                    if let f {
                        if request.excludeDuplicates { ex += groups[f.bodyHash] ?? [] }
                        if request.excludeSameRepo { ex += members[f.repo] ?? [] }
                    }
                    return ex
                }
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
