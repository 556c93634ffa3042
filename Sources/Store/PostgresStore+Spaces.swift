import Core
import Foundation

/// Spaces and vectors on PostgreSQL, with SQLite's validation, errors and generations. A vector
/// batch goes in with one statement whose parameters carry the whole batch (its bytes as one
/// bytea, ids, rows and flags as arrays), in the transaction that bumps the generation and sends
/// `NOTIFY swejepa_vectors, '<space>:<generation>'`.
///
/// ```swift
/// let generation = try await store.upsertVectors(space: "m.L3.body_mean", VectorBatch(ids: ids, values: values))
/// let all = try await store.vectors(space: "m.L3.body_mean", ids: nil)
/// ```
extension PostgresStore {
    static func spaceRecord(_ row: PostgresRow) -> SpaceRecord {
        SpaceRecord(
            id: row.int(0), name: row.text(1), model: row.text(2), layer: row.isNull(3) ? nil : Int(row.int(3)),
            kind: SpaceKind(rawValue: row.text(4)) ?? .custom, dim: Int(row.int(5)),
            dtype: VectorDType(rawValue: row.text(6)) ?? .float32, metric: Metric(rawValue: row.text(7)) ?? .cosine,
            indexFactory: row.text(8), generation: row.int(9), count: Int(row.int(11)), stale: Int(row.int(12)),
            createdAt: row.double(10))
    }

    public func createSpace(_ input: SpaceInput) async throws -> SpaceRecord {
        try SQLiteStore.validateSpaceName(input.name)
        guard (1...65_536).contains(input.dim) else {
            throw StoreError.invalidSpace("dim must be between 1 and 65536, got \(input.dim)")
        }
        do {
            return try await write { db in
                if try db.first("SELECT 1 FROM spaces WHERE name = ?", [.text(input.name)], { $0.int(0) }) != nil {
                    throw StoreError.spaceExists(input.name)
                }
                guard let id = try db.first("""
                    INSERT INTO spaces(name, model, layer, kind, dim, dtype, metric, index_factory, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """, [.text(input.name), .text(input.model ?? ""), input.layer.map { .int(Int64($0)) } ?? .null,
                          .text(input.kind.rawValue), .int(Int64(input.dim)), .text((input.dtype ?? input.kind.defaultDType).rawValue),
                          .text((input.metric ?? .cosine).rawValue), .text(input.indexFactory ?? "Flat"), .double(Self.now)], { $0.int(0) }),
                      let space = try db.first("SELECT \(SQLiteStore.spaceColumns) FROM spaces s WHERE s.id = ?", [.int(id)], Self.spaceRecord)
                else { throw PostgresError(message: "space insert returned no row") }
                return space
            }
        } catch let e as PostgresError where e.isUniqueViolation {
            throw StoreError.spaceExists(input.name)  // created by another process between the check and the insert
        }
    }

    public func spaces() async throws -> [SpaceRecord] {
        try await read { db in try db.all("SELECT \(SQLiteStore.spaceColumns) FROM spaces s ORDER BY s.name", [], Self.spaceRecord) }
    }

    public func space(named name: String) async throws -> SpaceRecord? {
        try await read { db in try db.first("SELECT \(SQLiteStore.spaceColumns) FROM spaces s WHERE s.name = ?", [.text(name)], Self.spaceRecord) }
    }

    public func deleteSpace(named name: String) async throws -> Bool {
        try await write { db in
            guard let id = try db.first("SELECT id FROM spaces WHERE name = ? FOR UPDATE", [.text(name)], { $0.int(0) }) else { return false }
            // The delete trigger moves the generation and notifies listeners before the space goes.
            try db.run("DELETE FROM vectors WHERE space_id = ?", [.int(id)])
            try db.run("DELETE FROM spaces WHERE id = ?", [.int(id)])
            return true
        }
    }

    public func setIndexFactory(space: String, factory: String, metric: Metric) async throws {
        try await write { db in
            let n = try db.run("UPDATE spaces SET index_factory = ?, metric = ? WHERE name = ?",
                               [.text(factory), .text(metric.rawValue), .text(space)])
            if n == 0 { throw StoreError.unknownSpace(space) }
        }
    }

    @discardableResult
    public func upsertVectors(space name: String, _ batch: VectorBatch) async throws -> Int64 {
        guard let space = try await self.space(named: name) else {
            throw StoreError.unknownSpace(name)
        }
        try SQLiteStore.validate(batch, for: space)
        // Every vector's bytes back to back (one copy of the values); each row's slice is cut on the
        // server from its position in the batch.
        let data = VectorCodec.encode(batch.values, as: space.dtype)
        let rowBytes = Int64(space.dim * space.dtype.size)
        let truncated = SQLValue.text("{" + (0..<batch.ids.count).map { batch.truncated?[$0] == true ? "1" : "0" }.joined(separator: ",") + "}")
        return try await write { db in
            // The space and every function must exist (name the first that does not); KEY SHARE
            // keeps them until commit, whatever another process deletes meanwhile.
            guard try db.first("SELECT 1 FROM spaces WHERE id = ? FOR KEY SHARE", [.int(space.id)], { $0.int(0) }) != nil else {
                throw StoreError.unknownSpace(name)
            }
            // `= ANY` probes the primary key per id (a join with the id list could hash the whole table).
            var found = Set<Int64>()
            try db.query("SELECT f.id FROM functions f WHERE f.id = ANY(?::bigint[]) FOR KEY SHARE", [Self.idArray(batch.ids)]) { found.insert($0.int(0)) }
            if found.count < Set(batch.ids).count, let i = batch.ids.firstIndex(where: { !found.contains($0) }) {
                throw StoreError.unknownFunction(index: i, id: batch.ids[i])
            }
            // The generation first: its row lock, held to the commit, orders writers of one space, so
            // generations follow commit order and each row carries the one that wrote it.
            guard let generation = try db.first("UPDATE spaces SET generation = generation + 1 WHERE id = ? RETURNING generation",
                                                [.int(space.id)], { $0.int(0) }) else {
                throw StoreError.unknownSpace(name)  // deleted by another process meanwhile
            }
            // The planner's guesses for a space being filled (no statistics yet) price the statement
            // high enough to JIT-compile it: 0.3–0.6 s of compiling for a 50 ms write.
            try db.execute("SET LOCAL jit = off")
            let ids = Self.idArray(batch.ids), now = Self.now
            try db.run(Self.vectorUpsertSQL, [
                .blob(data), .int(rowBytes), .int(rowBytes), .int(space.id), ids, Self.idArray(batch.rows.lazy.map { Int64($0) }), truncated,
                .double(now), .int(generation),
                .int(space.id), .double(now), .int(generation),
                .int(space.id)])
            try Self.notify(db, Self.vectorsChannel, "\(name):\(generation)")
            return generation
        }
    }

    /// One statement writing a whole batch from its parameters (no staging table, no `COPY`):
    /// `input` cuts each row's bytes out of the batch's one bytea and looks up the row's existing
    /// vector (`vid`: one probe of the `function_id` index per row, then a filter over that
    /// function's few spaces; `space_id + 0` keeps the planner from walking the whole space through
    /// a `space_id` index when its statistics believe the space small, as they do for a space being
    /// filled); rows with one are updated through the primary key, the others inserted. A plain
    /// `INSERT` is safe (no `ON CONFLICT` and its speculative insertion): the caller holds the space's
    /// row lock from the generation bump, which every vector writer of the space takes first, so no
    /// other transaction can add one of these rows before the commit (`swejepa copy` imports into an
    /// empty store only). The space's count grows by the rows inserted; stale counts follow the
    /// `vectors_stale_count` trigger (an update clears `stale`).
    static let vectorUpsertSQL = """
        WITH input AS MATERIALIZED (
            SELECT q.id, q.n, q.t,
                substring(?::bytea FROM ((sum(q.n) OVER (ORDER BY q.ord) - q.n) * ?)::int + 1 FOR (q.n * ?)::int) AS data,
                (SELECT v.id FROM vectors v WHERE v.function_id = q.id AND v.space_id + 0 = ?) AS vid
            FROM unnest(?::bigint[], ?::bigint[], ?::int[]) WITH ORDINALITY AS q(id, n, t, ord)),
        updated AS (
            UPDATE vectors v SET n_rows = i.n, data = i.data, stale = 0, truncated = i.t, updated_at = ?, generation = ?
            FROM input i WHERE v.id = ANY(ARRAY(SELECT vid FROM input WHERE vid IS NOT NULL)) AND v.id = i.vid),
        inserted AS (
            INSERT INTO vectors(space_id, function_id, n_rows, data, stale, truncated, updated_at, generation)
            SELECT ?, i.id, i.n, i.data, 0, i.t, ?, ? FROM input i WHERE i.vid IS NULL
            RETURNING 1)
        UPDATE spaces SET n_vectors = n_vectors + (SELECT COUNT(*) FROM inserted) WHERE id = ?
        """

    public func vectors(space name: String, ids: [Int64]?) async throws -> VectorBatch {
        guard let space = try await self.space(named: name) else {
            throw StoreError.unknownSpace(name)
        }
        return try await read { db in
            var out = VectorBatch(ids: [], rows: [], values: [], truncated: [])
            out.values.reserveCapacity(ids.map { $0.count * space.dim } ?? space.count * space.dim)
            try Self.forEachVectorRow(db, space: space, ids: ids, withData: true) { row in
                out.ids.append(row.int(0)); out.rows.append(Int(row.int(1)))
                out.truncated!.append(row.int(3) != 0)
                VectorCodec.decode(row.blob(2), as: space.dtype, into: &out.values)
            }
            return out
        }
    }

    public func vectorLayout(space name: String, ids: [Int64]?) async throws -> VectorLayout {
        guard let space = try await self.space(named: name) else { throw StoreError.unknownSpace(name) }
        return try await read { db in
            var out = VectorLayout()
            try Self.forEachVectorRow(db, space: space, ids: ids, withData: false) { row in
                out.ids.append(row.int(0)); out.rows.append(Int(row.int(1))); out.truncated.append(row.int(3) != 0)
            }
            return out
        }
    }

    /// Calls `row` with (function_id, n_rows, data or NULL, truncated) for the vectors of `ids` in
    /// their order (every vector of the space by id when nil), in one statement; ids without a
    /// vector throw `unknownVectors` naming all of them (and `row` is not called for them).
    static func forEachVectorRow(_ db: PostgresConnection, space: SpaceRecord, ids: [Int64]?, withData: Bool,
                                 _ row: (PostgresRow) throws -> Void) throws {
        let data = withData ? "v.data" : "NULL::bytea"
        guard let ids else {
            try db.query("SELECT v.function_id, v.n_rows, \(data), v.truncated FROM vectors v WHERE v.space_id = ? ORDER BY v.function_id",
                         [.int(space.id)], row: row)
            return
        }
        var missing = [Int64]()
        try db.query("""
            SELECT q.id, v.n_rows, \(data), v.truncated FROM unnest(?::bigint[]) WITH ORDINALITY AS q(id, ord)
            LEFT JOIN vectors v ON v.space_id = ? AND v.function_id = q.id ORDER BY q.ord
            """, [Self.idArray(ids), .int(space.id)]) {
                if $0.isNull(1) { missing.append($0.int(0)) } else if missing.isEmpty { try row($0) }
            }
        if !missing.isEmpty { throw StoreError.unknownVectors(space: space.name, ids: missing) }
    }
}
