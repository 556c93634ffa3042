import Core

extension SQLiteStore {
    /// Vectors written and deleted in `space` after generation `after`, read in one snapshot (see
    /// `VectorChanges`); nil when the record does not reach back that far (`after` older than the
    /// space's `changes_since`) or when more than `limit` ids changed (a rebuild is cheaper then).
    public func vectorChanges(space name: String, after: Int64, limit: Int) async throws -> VectorChanges? {
        try await read { db in try VectorChanges.read(from: db, space: name, after: after, limit: limit) }
    }
}
