import Core
import Foundation
import Store

/// Stored neighbour lists (written by `neighbours` jobs) read back as pages a reader can follow:
/// one function's list, or every list in function-id order with a cursor.
///
/// ```swift
/// let page = try await NeighbourLists.page(store: store, space: space, functionID: 42)
/// page.lists[0].neighbours.map(\.id)   // ranked neighbour ids of function 42
/// ```
public enum NeighbourLists {
    /// A function as the lists name it (nil fields when it vanished since the job ran).
    public struct FunctionRef: Encodable, Sendable {
        public var id: Int64
        public var repo: String
        public var path: String
        public var qualifiedName: String
        public var bodyHash: String
        enum CodingKeys: String, CodingKey {
            case id, repo, path
            case qualifiedName = "qualified_name", bodyHash = "body_hash"
        }
        init(_ s: FunctionSummary) {
            id = s.id; repo = s.repo; path = s.path; qualifiedName = s.qualifiedName; bodyHash = s.bodyHash
        }
    }

    public struct Neighbour: Encodable, Sendable {
        public var id: Int64
        public var rank: Int
        public var score: Double
        public var sameDuplicateGroup: Bool
        /// The neighbour's names (absent when it vanished since the job ran).
        public var function: FunctionRef?
        enum CodingKeys: String, CodingKey {
            case id, rank, score, repo, path
            case sameDuplicateGroup = "same_duplicate_group", qualifiedName = "qualified_name", bodyHash = "body_hash"
        }
        /// Flat: `{"id","rank","score","same_duplicate_group","repo","path","qualified_name","body_hash"}`.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(rank, forKey: .rank)
            try c.encode(score, forKey: .score)
            try c.encode(sameDuplicateGroup, forKey: .sameDuplicateGroup)
            if let f = function {
                try c.encode(f.repo, forKey: .repo)
                try c.encode(f.path, forKey: .path)
                try c.encode(f.qualifiedName, forKey: .qualifiedName)
                try c.encode(f.bodyHash, forKey: .bodyHash)
            }
        }
    }

    public struct List: Encodable, Sendable {
        public var functionID: Int64
        public var function: FunctionRef?
        public var neighbours: [Neighbour]
        enum CodingKeys: String, CodingKey { case functionID = "function_id", function, neighbours }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(functionID, forKey: .functionID)
            try c.encode(function, forKey: .function)  // explicit null when the function vanished
            try c.encode(neighbours, forKey: .neighbours)
        }
    }

    public struct Page: Encodable, Sendable {
        public var space: String
        public var k: Int
        public var exclude: String
        public var jobID: Int64?
        public var createdAt: Double
        public var lists: [List]
        /// The `after` of the next page (nil on the last page, and for one function's list).
        public var nextCursor: Int64?
        enum CodingKeys: String, CodingKey {
            case space, k, exclude, lists
            case jobID = "job_id", createdAt = "created_at", nextCursor = "next_cursor"
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(space, forKey: .space)
            try c.encode(k, forKey: .k)
            try c.encode(exclude, forKey: .exclude)
            try c.encode(jobID, forKey: .jobID)
            try c.encode(createdAt, forKey: .createdAt)
            try c.encode(lists, forKey: .lists)
            try c.encode(nextCursor, forKey: .nextCursor)
        }
    }

    /// One function's list (`functionID`), or up to `limit` functions' lists after the cursor `after`.
    public static func page(store: any StoreBackend, space: SpaceRecord, functionID: Int64? = nil,
                            after: Int64? = nil, limit: Int = 100) async throws -> Page {
        guard let run = try await store.neighbourRun(space: space.name) else {
            throw APIError.notFound(
                "space '\(space.name)' has no stored neighbour lists; run a neighbours job: POST /v1/jobs {\"type\":\"neighbours\",\"space\":\"\(space.name)\"}",
                code: "no_neighbours")
        }
        let rows: [NeighbourRow]
        var nextCursor: Int64?
        if let id = functionID {
            rows = try await store.neighbours(space: space.name, functionID: id)
            if rows.isEmpty {
                guard try await store.function(id: id) != nil else {
                    throw APIError.notFound("function \(id) does not exist", code: "unknown_function")
                }
                throw APIError.notFound(
                    "function \(id) has no stored neighbour list in '\(space.name)' (no vector when the neighbours job ran, or a zero vector); run the job again",
                    code: "no_neighbours")
            }
        } else {
            rows = try await store.neighbours(space: space.name, after: after, limit: limit)
            let functions = Set(rows.map(\.functionID))
            if functions.count == limit { nextCursor = functions.max() }
        }
        let summaries = try await store.functionSummaries(ids: Array(Set(rows.flatMap { [$0.functionID, $0.neighbourID] })))
        var lists = [List]()
        for row in rows {
            if lists.last?.functionID != row.functionID {
                lists.append(List(functionID: row.functionID, function: summaries[row.functionID].map(FunctionRef.init), neighbours: []))
            }
            let s = summaries[row.neighbourID]
            lists[lists.count - 1].neighbours.append(Neighbour(
                id: row.neighbourID, rank: row.rank, score: row.score,
                sameDuplicateGroup: s != nil && s?.bodyHash == summaries[row.functionID]?.bodyHash,
                function: s.map(FunctionRef.init)))
        }
        return Page(space: space.name, k: run.k, exclude: run.exclude, jobID: run.jobID, createdAt: run.createdAt,
                    lists: lists, nextCursor: nextCursor)
    }
}
