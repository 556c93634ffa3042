import Core

/// Everything the store rejects: bad input, names that do not exist, clashes with what is stored.
/// Storage faults (`SQLiteError`, `MigrationError`) stay separate: they are never the caller's fault.
///
/// ```swift
/// do { _ = try await store.vectors(space: "s", ids: [1, 2]) }
/// catch StoreError.unknownVectors(let space, let ids) { print("\(ids) have no vector in \(space)") }
/// ```
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A space name or dimension outside what a space may have.
    case invalidSpace(String)
    /// A space with this name exists already.
    case spaceExists(String)
    /// No space has this name.
    case unknownSpace(String)
    /// `ids[index]` of a vector batch is not a stored function.
    case unknownFunction(index: Int, id: Int64)
    /// These ids (in request order) have no vector in the space.
    case unknownVectors(space: String, ids: [Int64])
    /// A vector batch whose parts disagree (ids and row counts of different lengths).
    case invalidBatch(String)
    /// `ids[index]` repeats `ids[first]` in one batch.
    case duplicateIDs(index: Int, id: Int64, first: Int)
    /// Vectors whose shape does not fit the space.
    case wrongDimension(String)
    /// A NaN or infinity at (vector row, value).
    case nonFinite(row: Int, value: Int)
    /// A finite value beyond what the space's float16 storage holds (|x| ≥ 65520 rounds to infinity).
    case outOfRange(row: Int, value: Int, x: Float)
    /// `functions[index]` is not a valid function.
    case invalidFunction(index: Int, reason: String)
    /// `functions[index]` breaks a rule between its fields or with the request (end_line before
    /// start_line, a repo other than the snapshot's): well formed, so a 422.
    case inconsistentFunction(index: Int, reason: String)
    /// `functions[index]` repeats the (repo, path, qualified name) key of `functions[first]`.
    case duplicateFunction(index: Int, first: Int, key: String)
    /// A probe result with a non-finite score.
    case invalidProbeResult(target: String)
    /// A neighbour row with a non-finite score or a negative rank.
    case invalidNeighbour(functionID: Int64, rank: Int, score: Double)
    /// Neighbour rows that name a missing function or repeat a (function, rank).
    case conflictingNeighbours(space: String, reason: String)

    public var description: String {
        switch self {
        case .invalidSpace(let m): m
        case .spaceExists(let s): "space '\(s)' already exists"
        case .unknownSpace(let s): "space '\(s)' does not exist"
        case let .unknownFunction(i, id): "ids[\(i)] = \(id) is not a stored function"
        case let .unknownVectors(space, ids):
            "\(ids.count == 1 ? "id" : "ids") \(Self.list(ids)) \(ids.count == 1 ? "has" : "have") no vector in space '\(space)'"
        case .invalidBatch(let m): m
        case let .duplicateIDs(i, id, j): "ids[\(i)] = \(id) repeats ids[\(j)]; a batch holds each id once"
        case .wrongDimension(let m): m
        case let .nonFinite(row, value): "value \(value) of vector row \(row) is NaN or infinite"
        case let .outOfRange(row, value, x):
            "value \(value) of vector row \(row) is \(x), beyond the ±65504 a float16 space stores"
        case let .invalidFunction(i, reason), let .inconsistentFunction(i, reason): "functions[\(i)]: \(reason)"
        case let .duplicateFunction(i, j, key): "functions[\(i)] repeats functions[\(j)] (\(key)); a batch holds each key once"
        case .invalidProbeResult(let t): "probe result for '\(t)' has a non-finite score"
        case let .invalidNeighbour(f, rank, score): "neighbour row of function \(f) rank \(rank) has score \(score)"
        case let .conflictingNeighbours(space, reason):
            "neighbour rows of '\(space)' name a function that does not exist or repeat a (function, rank): \(reason)"
        }
    }

    /// At most ten ids, then how many more.
    static func list(_ ids: [Int64]) -> String {
        let shown = ids.prefix(10).map(String.init).joined(separator: ", ")
        return ids.count > 10 ? "\(shown) and \(ids.count - 10) more" : shown
    }
}

extension StoreError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .invalidSpace, .invalidBatch, .duplicateIDs, .wrongDimension, .nonFinite, .outOfRange, .invalidFunction:
            .invalidInput
        case .unknownSpace, .unknownVectors: .notFound
        case .spaceExists, .conflictingNeighbours: .conflict
        case .unknownFunction, .invalidProbeResult, .invalidNeighbour, .inconsistentFunction, .duplicateFunction: .unprocessable
        }
    }

    public var code: String {
        switch self {
        case .invalidSpace: "invalid_space"
        case .spaceExists: "space_exists"
        case .unknownSpace: "unknown_space"
        case .unknownFunction: "unknown_function"
        case .unknownVectors: "unknown_vector"
        case .invalidBatch: "bad_batch"
        case .duplicateIDs: "duplicate_ids"
        case .wrongDimension: "wrong_dimension"
        case .nonFinite: "non_finite"
        case .outOfRange: "out_of_range"
        case .invalidFunction, .inconsistentFunction: "invalid_function"
        case .duplicateFunction: "duplicate_keys"
        case .invalidProbeResult: "invalid_probe_result"
        case .invalidNeighbour, .conflictingNeighbours: "invalid_neighbours"
        }
    }
}
