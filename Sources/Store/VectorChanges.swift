import Core

/// What changed in a space after a given write generation: the vectors written since (their current
/// values) and the ids whose vectors were deleted and not written again. A process holding an index
/// at generation `g` applies `deleted` then `upserted` and is at `generation`.
///
/// ```swift
/// if let changes = try await store.vectorChanges(space: "m.L3.body_mean", after: 41, limit: 10_000) {
///     try await catalog.remove(space: name, ids: changes.deleted)
///     try await catalog.add(space: name, ids: changes.upserted.ids, vectors: changes.upserted.values,
///                           generation: UInt64(changes.generation))
/// }   // nil: the record does not reach back to 41, or more than 10,000 rows changed: rebuild instead
/// ```
public struct VectorChanges: Sendable, Equatable {
    /// The space's generation in the snapshot the changes were read from.
    public var generation: Int64
    /// Vectors written after the given generation (ids ascending), as they are now.
    public var upserted: VectorBatch
    /// Ids whose vector was deleted after the given generation and is absent now (ascending).
    public var deleted: [Int64]

    public init(generation: Int64, upserted: VectorBatch, deleted: [Int64]) {
        self.generation = generation
        self.upserted = upserted
        self.deleted = deleted
    }
}
