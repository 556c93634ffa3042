import Core

extension VectorChanges {
    /// The changes of `space` after generation `after` as both backends read them (inside one read
    /// snapshot the caller opened); nil when the record does not reach back that far or more than
    /// `limit` ids changed. Changes are read with `stale IN (0, 1)` so that the
    /// `(space_id, stale, generation)` index serves them.
    static func read(from db: some SQLConnection, space name: String, after: Int64, limit: Int) throws -> VectorChanges? {
        guard let (spaceID, generation, since, dtypeName) = try db.first(
            "SELECT id, generation, changes_since, dtype FROM spaces WHERE name = ?", [.text(name)],
            { ($0.int(0), $0.int(1), $0.int(2), $0.text(3)) }) else { throw StoreError.unknownSpace(name) }
        let dtype = VectorDType(rawValue: dtypeName) ?? .float32
        var out = VectorChanges(generation: generation, upserted: VectorBatch(ids: [], rows: [], values: [], truncated: []), deleted: [])
        if after >= generation { return out }
        guard after >= since, after >= 0 else { return nil }
        let written = try db.first("SELECT COUNT(*) FROM vectors WHERE space_id = ? AND stale IN (0, 1) AND generation > ?",
                                   [.int(spaceID), .int(after)]) { Int($0.int(0)) } ?? 0
        out.deleted = try db.all("""
            SELECT DISTINCT d.function_id FROM vector_deletions d
            WHERE d.space_id = ? AND d.generation > ?
              AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.space_id = d.space_id AND v.function_id = d.function_id)
            ORDER BY d.function_id
            """, [.int(spaceID), .int(after)]) { $0.int(0) }
        guard written + out.deleted.count <= limit else { return nil }
        try db.query("""
            SELECT function_id, n_rows, data, truncated FROM vectors WHERE space_id = ? AND stale IN (0, 1) AND generation > ?
            ORDER BY function_id
            """, [.int(spaceID), .int(after)]) { row in
            out.upserted.ids.append(row.int(0))
            out.upserted.rows.append(Int(row.int(1)))
            out.upserted.truncated!.append(row.int(3) != 0)
            VectorCodec.decode(row.blob(2), as: dtype, into: &out.upserted.values)
        }
        return out
    }
}
