import Core
import Foundation

/// A probe outcome to store: the headline numbers as columns, the full result as JSON.
/// (`task`/`metric` are strings because Store does not depend on Analysis.)
public struct ProbeRecordInput: Sendable, Equatable {
    public var jobID: Int64?
    public var space: String
    public var target: String
    /// "regression" or "classification".
    public var task: String
    /// "r2" or "balanced_accuracy".
    public var metric: String
    public var mean: Double
    public var std: Double
    /// "repo", "file" or "function" (duplicate group).
    public var groupBy: String
    public var result: JSONValue

    public init(jobID: Int64?, space: String, target: String, task: String, metric: String,
                mean: Double, std: Double, groupBy: String, result: JSONValue) {
        self.jobID = jobID; self.space = space; self.target = target; self.task = task; self.metric = metric
        self.mean = mean; self.std = std; self.groupBy = groupBy; self.result = result
    }
}

/// A stored probe outcome.
public struct ProbeRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var jobID: Int64?
    public var space: String
    public var target: String
    public var task: String
    public var metric: String
    public var mean: Double
    public var std: Double
    public var groupBy: String
    public var result: JSONValue
    public var createdAt: Double

    enum CodingKeys: String, CodingKey {
        case id, space, target, task, metric, mean, std, result
        case jobID = "job_id", groupBy = "group_by", createdAt = "created_at"
    }
}

/// Filters for listing stored probe results (newest first).
public struct ProbeQuery: Sendable, Equatable {
    public var space: String?
    public var target: String?
    public var jobID: Int64?
    public var limit: Int
    public init(space: String? = nil, target: String? = nil, jobID: Int64? = nil, limit: Int = 100) {
        self.space = space; self.target = target; self.jobID = jobID; self.limit = limit
    }
}

/// One entry of a function's stored neighbour list: rank 0 is the nearest.
public struct NeighbourRow: Codable, Sendable, Equatable {
    public var functionID: Int64
    public var rank: Int
    public var neighbourID: Int64
    public var score: Double

    public init(functionID: Int64, rank: Int, neighbourID: Int64, score: Double) {
        self.functionID = functionID; self.rank = rank; self.neighbourID = neighbourID; self.score = score
    }

    enum CodingKeys: String, CodingKey {
        case rank, score
        case functionID = "function_id", neighbourID = "neighbour_id"
    }
}

/// How a space's stored neighbour lists were made.
public struct NeighbourRun: Codable, Sendable, Equatable {
    public var space: String
    public var jobID: Int64?
    public var k: Int
    /// What a query's candidates exclude: "repo" (its own repository) or "self" (only itself).
    public var exclude: String
    /// Functions that got a list.
    public var functions: Int
    public var createdAt: Double

    public init(space: String, jobID: Int64?, k: Int, exclude: String, functions: Int, createdAt: Double = Date().timeIntervalSince1970) {
        self.space = space; self.jobID = jobID; self.k = k; self.exclude = exclude; self.functions = functions
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case space, k, exclude, functions
        case jobID = "job_id", createdAt = "created_at"
    }
}

/// Stored analysis results: probe outcomes and neighbour lists.
///
/// ```swift
/// let saved = try await store.addProbeResult(ProbeRecordInput(jobID: 7, space: "m.L3.body_mean", target: "loc",
///     task: "regression", metric: "r2", mean: 0.7, std: 0.02, groupBy: "repo", result: json))
/// let latest = try await store.probeResults(ProbeQuery(space: "m.L3.body_mean", target: "loc", limit: 1))
/// try await store.replaceNeighbours(run: NeighbourRun(space: s, jobID: 8, k: 10, exclude: "repo", functions: n), rows)
/// let list = try await store.neighbours(space: s, functionID: 42)
/// ```
public protocol AnalysisStore: Sendable {
    @discardableResult
    func addProbeResult(_ input: ProbeRecordInput) async throws -> ProbeRecord
    /// Stored probe results matching the query, newest first.
    func probeResults(_ query: ProbeQuery) async throws -> [ProbeRecord]
    /// Replaces every stored neighbour row of `run.space` with `rows`, atomically.
    func replaceNeighbours(run: NeighbourRun, _ rows: [NeighbourRow]) async throws
    /// How the space's neighbour lists were made; nil when none are stored.
    func neighbourRun(space: String) async throws -> NeighbourRun?
    /// The stored neighbour list of one function, by rank.
    func neighbours(space: String, functionID: Int64) async throws -> [NeighbourRow]
    /// Neighbour lists of up to `limit` functions with id greater than `after`, by function then rank.
    func neighbours(space: String, after: Int64?, limit: Int) async throws -> [NeighbourRow]
}
