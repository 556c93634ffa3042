import Core

extension PostgresStore {
    /// Vectors written and deleted in `space` after generation `after`, read in one REPEATABLE READ
    /// snapshot (see `VectorChanges`); nil when the record does not reach back that far or more than
    /// `limit` ids changed.
    public func vectorChanges(space name: String, after: Int64, limit: Int) async throws -> VectorChanges? {
        try await read(snapshot: true) { db in try VectorChanges.read(from: db, space: name, after: after, limit: limit) }
    }
}
