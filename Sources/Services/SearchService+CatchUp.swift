import Core
import Foundation
import Search
import Store

extension SearchService {
    /// Brings a live index that fell behind the store (writes by another process, cascading deletes)
    /// up to date from the store's record of changes instead of rebuilding it; false when that is not
    /// possible (no live index, another factory, a rebuild under way, a record that does not reach back
    /// to the index's generation, or so many changes that a rebuild is cheaper).
    ///
    /// ```swift
    /// if try await search.catchUp(space) { /* index at the store's generation without a rebuild */ }
    /// ```
    func catchUp(_ space: SpaceRecord) async throws -> Bool {
        guard let info = catalog.info(space: space.name), !info.rebuilding, info.generation > 0,
              info.factory.string == space.indexFactory, info.generation < UInt64(space.generation) else { return false }
        let limit = max(1_000, space.count / 4)
        guard let changes = try await store.vectorChanges(space: space.name, after: Int64(info.generation), limit: limit) else {
            return false
        }
        if !changes.deleted.isEmpty {
            _ = try await catalog.remove(space: space.name, ids: changes.deleted)
        }
        try await catalog.add(space: space.name, ids: changes.upserted.ids, vectors: changes.upserted.values,
                              generation: UInt64(changes.generation))
        markDirty(space.name)
        log("index \(space.name): caught up from generation \(info.generation) to \(changes.generation) "
            + "(\(changes.upserted.ids.count) written, \(changes.deleted.count) deleted)")
        return true
    }
}
