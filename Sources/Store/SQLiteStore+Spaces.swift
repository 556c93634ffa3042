import Core
import Foundation

extension SQLiteStore {
    static let spaceColumns = """
        s.id, s.name, s.model, s.layer, s.kind, s.dim, s.dtype, s.metric, s.index_factory, s.generation, s.created_at,
        s.n_vectors, s.n_stale
        """

    static func spaceRecord(_ row: SQLRow) -> SpaceRecord {
        SpaceRecord(
            id: row.int(0), name: row.text(1), model: row.text(2), layer: row.isNull(3) ? nil : Int(row.int(3)),
            kind: SpaceKind(rawValue: row.text(4)) ?? .custom, dim: Int(row.int(5)),
            dtype: VectorDType(rawValue: row.text(6)) ?? .float32, metric: Metric(rawValue: row.text(7)) ?? .cosine,
            indexFactory: row.text(8), generation: row.int(9), count: Int(row.int(11)), stale: Int(row.int(12)),
            createdAt: row.double(10))
    }

    static func validateSpaceName(_ name: String) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.@:"))
        guard !name.isEmpty, name.count <= 200, name.unicodeScalars.allSatisfy({ allowed.contains($0) && $0.isASCII }) else {
            throw StoreError.invalidSpace("space name must be 1–200 characters of A–Z a–z 0–9 - _ . @ :")
        }
    }

    public func createSpace(_ input: SpaceInput) async throws -> SpaceRecord {
        try Self.validateSpaceName(input.name)
        guard (1...65_536).contains(input.dim) else {
            throw StoreError.invalidSpace("dim must be between 1 and 65536, got \(input.dim)")
        }
        return try await write { db in
            if try db.first("SELECT 1 FROM spaces WHERE name = ?", [.text(input.name)], { $0.int(0) }) != nil {
                throw StoreError.spaceExists(input.name)
            }
            try db.run("""
                INSERT INTO spaces(name, model, layer, kind, dim, dtype, metric, index_factory, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(input.name), .text(input.model ?? ""), input.layer.map { .int(Int64($0)) } ?? .null,
                      .text(input.kind.rawValue), .int(Int64(input.dim)), .text((input.dtype ?? input.kind.defaultDType).rawValue),
                      .text((input.metric ?? .cosine).rawValue), .text(input.indexFactory ?? "Flat"), .double(Self.now)])
            return try db.first("SELECT \(Self.spaceColumns) FROM spaces s WHERE s.id = ?", [.int(db.lastInsertRowID)], Self.spaceRecord)!
        }
    }

    public func spaces() async throws -> [SpaceRecord] {
        try await read { db in try db.all("SELECT \(Self.spaceColumns) FROM spaces s ORDER BY s.name", [], Self.spaceRecord) }
    }

    public func space(named name: String) async throws -> SpaceRecord? {
        try await read { db in try db.first("SELECT \(Self.spaceColumns) FROM spaces s WHERE s.name = ?", [.text(name)], Self.spaceRecord) }
    }

    public func deleteSpace(named name: String) async throws -> Bool {
        try await write { db in
            guard let id = try db.first("SELECT id FROM spaces WHERE name = ?", [.text(name)], { $0.int(0) }) else { return false }
            // Drop vectors first without the per-row generation trigger's cost mattering: the space goes too.
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
        try Self.validate(batch, for: space)
        return try await write { db in
            let now = Self.now
            try db.run("UPDATE spaces SET generation = generation + 1 WHERE id = ?", [.int(space.id)])
            let generation = try db.first("SELECT generation FROM spaces WHERE id = ?", [.int(space.id)]) { $0.int(0) } ?? 0
            let inserted = try Self.insertRows(db, batch, space: space, generation: generation, now: now)
            // Stale counts follow the vectors_stale_count trigger; deletes follow vectors_delete_generation.
            try db.run("UPDATE spaces SET n_vectors = n_vectors + ? WHERE id = ?", [.int(inserted), .int(space.id)])
            return generation
        }
    }

    /// Inserts or replaces every row of a validated batch through one prepared statement, each value
    /// bound in place (the float32 blobs straight from `batch.values`); returns how many rows were new.
    /// A function id that does not exist fails its row's foreign key, and is then named as
    /// `unknownFunction` (the first such id in batch order, as no earlier row failed).
    static func insertRows(_ db: SQLiteConnection, _ batch: VectorBatch, space: SpaceRecord, generation: Int64,
                           now: Double) throws -> Int64 {
        let insert = try db.statement("""
            INSERT INTO vectors(space_id, function_id, n_rows, data, stale, truncated, updated_at, generation)
            VALUES (?, ?, ?, ?, 0, ?, ?, ?)
            ON CONFLICT(space_id, function_id) DO UPDATE SET n_rows = excluded.n_rows, data = excluded.data,
                stale = 0, truncated = excluded.truncated, updated_at = excluded.updated_at,
                generation = excluded.generation
            """)
        defer { insert.finish() }
        try insert.bind(1, int: space.id)
        try insert.bind(6, double: now)
        try insert.bind(7, int: generation)
        var half = [UInt16]()  // a float16 space's row, converted once per row into one reused buffer
        var offset = 0
        var inserted: Int64 = 0
        try batch.values.withUnsafeBufferPointer { all in
            for (i, id) in batch.ids.enumerated() {
                let rows = batch.rows[i]
                let n = rows * space.dim
                let values = UnsafeBufferPointer(rebasing: all[offset..<(offset + n)])
                offset += n
                try insert.bind(2, int: id)
                try insert.bind(3, int: Int64(rows))
                try insert.bind(5, int: batch.truncated?[i] == true ? 1 : 0)
                // An insert sets last_insert_rowid (a vector row's id is never 0); the conflict's update does not.
                db.lastInsertRowID = 0
                do {
                    switch space.dtype {
                    case .float32:
                        try insert.bind(4, blob: UnsafeRawBufferPointer(values))
                        try insert.step()
                    case .float16:
                        half.removeAll(keepingCapacity: true)
                        for x in values { half.append(Float16(x).bitPattern) }
                        try half.withUnsafeBytes { try insert.bind(4, blob: $0); try insert.step() }
                    }
                } catch let e as SQLiteError where e.isForeignKey {
                    if try db.first("SELECT 1 FROM functions WHERE id = ?", [.int(id)], { $0.int(0) }) == nil {
                        throw StoreError.unknownFunction(index: i, id: id)
                    }
                    throw e
                }
                if db.lastInsertRowID != 0 { inserted += 1 }
            }
        }
        return inserted
    }

    /// Shape, duplicate and finiteness checks of a vector batch against its space (a float16 space
    /// also refuses finite values that float16 would store as infinity).
    static func validate(_ batch: VectorBatch, for space: SpaceRecord) throws {
        guard batch.ids.count == batch.rows.count else {
            throw StoreError.invalidBatch("ids and rows differ in length")
        }
        var seen = [Int64: Int](minimumCapacity: batch.ids.count)
        var total = 0
        for (i, id) in batch.ids.enumerated() {
            if let j = seen[id] {
                throw StoreError.duplicateIDs(index: i, id: id, first: j)
            }
            seen[id] = i
            if batch.rows[i] < 1 { throw StoreError.wrongDimension("vector \(i) is empty") }
            if !space.kind.isTokens && batch.rows[i] != 1 {
                throw StoreError.wrongDimension("space '\(space.name)' holds one vector per function, vector \(i) has \(batch.rows[i]) rows")
            }
            total += batch.rows[i]
        }
        guard batch.values.count == total * space.dim else {
            throw StoreError.wrongDimension("expected \(total) × \(space.dim) values for space '\(space.name)' (dim \(space.dim)), got \(batch.values.count)")
        }
        if let bad = batch.values.withUnsafeBufferPointer(VectorCodec.firstNonFinite) {
            throw StoreError.nonFinite(row: bad / space.dim, value: bad % space.dim)
        }
        if space.dtype == .float16, let bad = batch.values.withUnsafeBufferPointer(VectorCodec.firstBeyondFloat16) {
            throw StoreError.outOfRange(row: bad / space.dim, value: bad % space.dim, x: batch.values[bad])
        }
    }

    public func vectors(space name: String, ids: [Int64]?) async throws -> VectorBatch {
        guard let space = try await self.space(named: name) else {
            throw StoreError.unknownSpace(name)
        }
        return try await read { db in
            var out = VectorBatch(ids: [], rows: [], values: [], truncated: [])
            func add(_ row: SQLRow) {
                out.ids.append(row.int(0)); out.rows.append(Int(row.int(1)))
                out.truncated!.append(row.int(3) != 0)
                row.withBlob(2) { VectorCodec.decode($0, as: space.dtype, into: &out.values) }
            }
            try Self.forEachVectorRow(db, space: space, ids: ids, columns: "function_id, n_rows, data, truncated", add)
            return out
        }
    }

    /// The layout of a space's vectors without their values (ids in `ids` order, or by id; unknown
    /// ids throw `unknownVectors`): what a paged download needs before reading values page by page
    /// with `vectors(space:ids:)`.
    public func vectorLayout(space name: String, ids: [Int64]?) async throws -> VectorLayout {
        guard let space = try await self.space(named: name) else { throw StoreError.unknownSpace(name) }
        return try await read { db in
            var out = VectorLayout()
            func add(_ row: SQLRow) {
                out.ids.append(row.int(0)); out.rows.append(Int(row.int(1))); out.truncated.append(row.int(2) != 0)
            }
            try Self.forEachVectorRow(db, space: space, ids: ids, columns: "function_id, n_rows, truncated", add)
            return out
        }
    }
}

extension SQLiteStore {
    /// Calls `row` for the vectors of `ids` in their order (every vector of the space by id when nil),
    /// selecting `columns` (the first must be `function_id`); ids without a vector in the space throw
    /// `unknownVectors` naming all of them.
    ///
    /// Increasing ids (a paged download asks for the space's ids in order) are read by one range scan
    /// merged with the list, while the rows it passes over that the list skips stay fewer than the
    /// list (a sparse list then finishes with lookups); other lists look each id up with one
    /// prepared statement rebound per id.
    static func forEachVectorRow(_ db: SQLiteConnection, space: SpaceRecord, ids: [Int64]?, columns: String,
                                 _ row: (SQLRow) throws -> Void) throws {
        guard let ids else {
            try db.query("SELECT \(columns) FROM vectors WHERE space_id = ? ORDER BY function_id", [.int(space.id)], row: row)
            return
        }
        var missing = [Int64]()
        var next = 0  // ids before this one are answered (or missing)
        if ids.count >= 16, zip(ids, ids.dropFirst()).allSatisfy({ $0 < $1 }) {
            let scan = try db.statement("SELECT \(columns) FROM vectors WHERE space_id = ? AND function_id BETWEEN ? AND ? ORDER BY function_id")
            defer { scan.finish() }
            try scan.bind(1, int: space.id); try scan.bind(2, int: ids[0]); try scan.bind(3, int: ids[ids.count - 1])
            var skipped = 0
            let complete = try scan.forEachRow(while: { r in
                let id = r.int(0)
                while next < ids.count && ids[next] < id { missing.append(ids[next]); next += 1 }
                if next < ids.count && ids[next] == id { try row(r); next += 1 } else { skipped += 1 }
                return skipped < ids.count
            })
            if complete { missing += ids[next...]; next = ids.count }
        }
        let select = try db.statement("SELECT \(columns) FROM vectors WHERE space_id = ? AND function_id = ?")
        defer { select.finish() }
        try select.bind(1, int: space.id)
        for id in ids[next...] {
            try select.bind(2, int: id)
            if try select.forEachRow(row) == 0 { missing.append(id) }
        }
        if !missing.isEmpty { throw StoreError.unknownVectors(space: space.name, ids: missing) }
    }
}
