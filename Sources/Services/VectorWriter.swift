import Core
import Foundation
import Store

/// The one way vectors are written or deleted: every store write that adds, replaces or removes
/// vectors (the vectors API, embed and train jobs, deleting a function or a space, re-ingest pruning)
/// passes through here, so the live search indexes follow without each caller knowing about them.
///
/// Without a `SearchService` (a `swejepa worker` process) it only writes the store; the serving
/// process sees the space's generation move and rebuilds that index before its next search.
///
/// ```swift
/// let writer = VectorWriter(store: store, search: search)
/// let generation = try await writer.upsert(space: "m.L3.body_mean", batch)
/// try await writer.deleteFunction(id: 42)
/// ```
public struct VectorWriter: Sendable {
    public let store: any StoreBackend
    public let search: SearchService?

    public init(store: any StoreBackend, search: SearchService?) {
        self.store = store
        self.search = search
    }

    /// Stores a batch (replacing earlier vectors of the same ids) and updates the space's live index.
    /// Returns the space's new write generation. Once the store committed, the write succeeds: an
    /// index problem only marks the index stale (see `SearchService.afterWrite`).
    @discardableResult
    public func upsert(space: String, _ batch: VectorBatch) async throws -> Int64 {
        let generation = try await store.upsertVectors(space: space, batch)
        await search?.afterWrite(space: space, batch: batch, generation: generation)
        return generation
    }

    /// Deletes a function (its vectors go by cascade) and removes it from current live indexes.
    /// False when it did not exist.
    public func deleteFunction(id: Int64) async throws -> Bool {
        guard try await store.deleteFunction(id: id) else { return false }
        await search?.afterDelete(function: id)
        return true
    }

    /// Deletes a space with its vectors, and its index and index file. False when it did not exist.
    public func deleteSpace(named name: String) async throws -> Bool {
        guard try await store.deleteSpace(named: name) else { return false }
        search?.drop(space: name)
        return true
    }

    /// Deletes a repository's functions not in `keep` (re-ingest). Their vectors go by cascade; the
    /// indexes of the spaces they were in rebuild before their next search (their generation moved).
    public func pruneFunctions(repo: String, keep: [Int64]) async throws -> Int {
        try await store.pruneFunctions(repo: repo, keep: keep)
    }

    /// Replaces a repository's functions with `functions` in one transaction (an uploaded snapshot):
    /// unchanged ones keep their rows and vectors, changed ones get stale vectors, the rest are deleted
    /// like `pruneFunctions` deletes them (their spaces' indexes rebuild before their next search).
    public func replaceRepository(_ name: String, path: String?, functions: [FunctionInput]) async throws -> ReplaceSummary {
        try await store.replaceRepository(name, path: path, functions: functions)
    }
}
