import Testing
@testable import Tensor

struct TopKTests {
    /// Reference: all eligible rows sorted by score (Double dot products), best first, ties by
    /// lower index; the first k.
    func reference(_ q: [Float], _ db: [Float], dim: Int, query i: Int, k: Int, skip: (Int, Int) -> Bool) -> [Int] {
        let n = db.count / dim
        let s = (0..<n).map { j in (0..<dim).reduce(0.0) { $0 + Double(q[i * dim + $1]) * Double(db[j * dim + $1]) } }
        let order = (0..<n).filter { !skip(i, $0) }.sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }
        return Array(order.prefix(k))
    }

    @Test(arguments: [1, 3, 40])
    func matchesSortAcrossChunks(chunk: Int) {
        let dim = 5, n = 37, q = 11, k = 6
        let db = testValues(n * dim, seed: 21).map { Float($0) }
        let queries = testValues(q * dim, seed: 22).map { Float($0) }
        let skip: (Int, Int) -> Bool = { a, b in (a + b) % 4 == 0 }
        let top = TopK.search(queries: queries, database: db, dim: dim, k: k, chunk: chunk, skip: skip)
        for i in 0..<q {
            let want = reference(queries, db, dim: dim, query: i, k: k, skip: skip)
            #expect(top.row(i) == want, "query \(i) chunk \(chunk)")
            for (r, j) in want.enumerated() {
                let s = (0..<dim).reduce(Float(0)) { $0 + queries[i * dim + $1] * db[j * dim + $1] }
                #expect(abs(top.scores[i * k + r] - s) < 1e-5)
            }
        }
    }

    /// Equal scores keep the lower row first; rows compare exactly (integer-valued vectors).
    @Test func tiesGoToTheLowerIndex() {
        let db: [Float] = [1, 0,  0, 1,  1, 0,  2, 0,  1, 0,  0, 0]   // rows 0, 2, 4 tie; 3 is best
        let top = TopK.search(queries: [1, 0], database: db, dim: 2, k: 4)
        #expect(top.row(0) == [3, 0, 2, 4])
        #expect(top.scores == [2, 1, 1, 1])
        let noFour = TopK.search(queries: [1, 0], database: db, dim: 2, k: 3) { _, j in j == 0 }
        #expect(noFour.row(0) == [3, 2, 4])
    }

    /// k larger than the eligible rows: the rest is padding (−1, −∞); k = 0 gives empty lists.
    @Test func kBeyondRowsPads() {
        let db: [Float] = [3, 1, 2]
        let top = TopK.search(queries: [1, -1], database: db, dim: 1, k: 5) { q, j in q == 1 && j == 0 }
        let wantIDs: [Int] = [0, 2, 1, -1, -1, 1, 2, -1, -1, -1]
        #expect(top.ids == wantIDs)
        let inf = -Float.infinity
        let wantScores: [Float] = [3, 2, 1, inf, inf, -1, -2, inf, inf, inf]
        #expect(top.scores == wantScores)
        #expect(top.row(0) == [0, 2, 1] && top.row(1) == [1, 2])
        let none = TopK.search(queries: [1, -1], database: db, dim: 1, k: 0)
        #expect(none.ids.isEmpty && none.row(0).isEmpty && none.count == 2)
    }

    /// `forEachScoreRow` hands over every query's full row of inner products, in order.
    @Test func scoreRowsAreInnerProducts() {
        let dim = 3, n = 4, q = 5
        let db = testValues(n * dim, seed: 31).map { Float($0) }
        let queries = testValues(q * dim, seed: 32).map { Float($0) }
        var seen: [Int] = []
        TopK.forEachScoreRow(queries: queries, database: db, dim: dim, chunk: 2) { i, row in
            seen.append(i)
            for j in 0..<n {
                let s = (0..<dim).reduce(Float(0)) { $0 + queries[i * dim + $1] * db[j * dim + $1] }
                #expect(abs(row[j] - s) < 1e-6)
            }
        }
        #expect(seen == Array(0..<q))
    }
}
