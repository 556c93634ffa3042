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
                scope.excludePerQuery = try SearchScope.exclusions(db, ids: ids, facts: facts, request: request)
            }
            if let repos = request.repos { scope.allowOnly = try SearchScope.allowed(db, repos: repos) }
            return scope
        }
    }
}
