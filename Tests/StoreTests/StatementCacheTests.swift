import Foundation
import TestSupport
import Testing
@testable import Store

/// Issue 12 (the soak's heap growth): every distinct SQL text a connection ran stayed prepared on it,
/// and search results' summaries were read with `IN (?,?,…)`, one `?` per id, so every new count of
/// hits added a statement (tens of KiB for hundreds of ids) to each of up to 8 reader connections.
@Suite struct StatementCacheTests {
    @Test func summariesOfAnyNumberOfIdsUseOneStatement() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(directory: dir)
        let ids = try await store.upsertFunctions((0..<150).map { fn("f\($0)", body: "    return \($0)\n") }).ids
        _ = try await store.functionSummaries(ids: [ids[0]])
        let prepared = store.preparedReaderStatements
        for n in 2...150 {
            let summaries = try await store.functionSummaries(ids: Array(ids.prefix(n)) + [ids[0], 999_999])
            #expect(summaries.count == n && summaries[ids[n - 1]]?.qualifiedName == "f\(n - 1)")
        }
        // Sequential reads reuse one idle reader connection: nothing new stays prepared on it.
        #expect(store.preparedReaderStatements == prepared)
        #expect(try await store.functionSummaries(ids: []).isEmpty)
    }

    @Test func aConnectionKeepsAtMostItsLimitOfStatements() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try SQLiteConnection(path: dir.appendingPathComponent("t.sqlite").path)
        try db.execute("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2);")
        let limit = SQLiteConnection.statementCacheLimit
        for n in 1...(limit + 50) {
            let sql = "SELECT x FROM t WHERE x IN (" + Array(repeating: "?", count: n).joined(separator: ",") + ") ORDER BY x"
            #expect(try db.all(sql, (1...n).map { .int(Int64($0)) }) { $0.int(0) } == (n == 1 ? [1] : [1, 2]))
        }
        #expect(db.cachedStatementCount == limit)
        // A statement still stepping is not finalized under its caller when the ones its row callback
        // prepares push the cache past the limit.
        var seen = [Int64]()
        try db.query("SELECT x FROM t ORDER BY x") { row in
            for k in 0..<(limit + 10) {
                let sum = try db.first("SELECT \(k) + ?", [.int(1)]) { $0.int(0) }
                #expect(sum == Int64(k + 1))
            }
            seen.append(row.int(0))
        }
        #expect(seen == [1, 2])
        #expect(db.cachedStatementCount <= limit + 1)
    }
}
