import Core
import Foundation
import Store

/// A mean space's vectors with the facts of their functions, rows aligned.
struct SpaceData: Sendable {
    var space: SpaceRecord
    var ids: [Int64]
    var vectors: [Float]
    var facts: [FunctionFacts]
    var dims: Int { space.dim }
    var count: Int { ids.count }

    /// Loads every vector of `name` (a space with one vector per function) and its functions' facts;
    /// clear job errors for an unknown or token space.
    static func load(_ store: any StoreBackend, space name: String, job: String) async throws -> SpaceData {
        guard let space = try await store.space(named: name) else {
            let known = try await store.spaces().map(\.name).filter { !$0.hasSuffix("_tokens") }.prefix(20)
            throw APIError.notFound("space '\(name)' does not exist\(known.isEmpty ? " (no spaces yet: run an embed job)" : "; spaces: \(known.joined(separator: ", "))")",
                                    code: "unknown_space")
        }
        guard !space.kind.isTokens else {
            throw APIError.badRequest("space '\(name)' holds token matrices; \(job) needs one vector per function", code: "invalid_parameter")
        }
        let batch = try await store.vectors(space: name, ids: nil)
        guard batch.rows.allSatisfy({ $0 == 1 }), batch.values.count == batch.ids.count * space.dim else {
            throw APIError.unprocessable("space '\(name)' does not hold exactly one \(space.dim)-dim vector per function", code: "invalid_space")
        }
        let facts = try await store.functionFacts(ids: batch.ids)
        var out = SpaceData(space: space, ids: [], vectors: [], facts: [])
        out.ids.reserveCapacity(batch.ids.count)
        out.vectors.reserveCapacity(batch.values.count)
        for (i, id) in batch.ids.enumerated() {
            guard let f = facts[id] else { continue }  // deleted meanwhile
            out.ids.append(id)
            out.facts.append(f)
            out.vectors.append(contentsOf: batch.values[(i * space.dim)..<((i + 1) * space.dim)])
        }
        return out
    }

    /// The rows at `rows` (ascending or not), same order.
    func subset(_ rows: [Int]) -> SpaceData {
        var out = SpaceData(space: space, ids: rows.map { ids[$0] }, vectors: [], facts: rows.map { facts[$0] })
        out.vectors.reserveCapacity(rows.count * dims)
        for r in rows { out.vectors.append(contentsOf: vectors[(r * dims)..<((r + 1) * dims)]) }
        return out
    }

    /// Drops the rows whose vector is zero (cosine needs a direction); returns how many went.
    mutating func dropZeroRows() -> Int {
        let nonZero = nonZeroRows()
        let dropped = count - nonZero.count
        if dropped > 0 { self = subset(nonZero) }
        return dropped
    }

    /// Rows whose vector has a non-zero norm.
    func nonZeroRows() -> [Int] {
        (0..<count).filter { r in
            var s: Float = 0
            for j in 0..<dims { s += vectors[r * dims + j] * vectors[r * dims + j] }
            return s > 0
        }
    }
}
