import Core
import Foundation
import Testing
import TestSupport
@testable import Server
@testable import Store

/// Issue 12 over HTTP: whole-space downloads stream page by page and equal the stored vectors in
/// every format; `?ids=` lists are capped and deduplicated; NUL is refused in identifiers and kept in
/// text; an index factory is checked at creation and a committed upload never answers an error for
/// its index; unknown formats and null settings are 400; storage faults are 507 / 503 without
/// SQLite's text.
@Suite struct ReadHardeningRouteTests {
    /// `n` functions (one repository) with a vector each in space `name` of `dim`; values i * 0.25 + j.
    func loadSpace(_ s: LiveServer, n: Int, dim: Int, name: String = "sp") async throws -> (ids: [Int64], values: [Float]) {
        var ids = [Int64]()
        for start in stride(from: 0, to: n, by: 1_000) {
            let batch = JSONValue.object(["functions": .array((start..<min(n, start + 1_000)).map { i in
                ["repo": "r", "path": "m.py", "qualified_name": .string("f\(i)"), "start_line": 1, "end_line": 2,
                 "signature": .string("def f\(i)():"), "body": .string("    return \(i)\n")]
            })])
            ids += (try await s.call("POST", "/v1/functions", json: batch).json?["ids"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int64.init) }
        }
        try #require(ids.count == n)
        #expect(try await s.call("POST", "/v1/spaces", json: ["name": .string(name), "kind": "custom", "dim": .number(Double(dim))]).status == 201)
        let values = (0..<(n * dim)).map { Float($0 / dim) * 0.25 + Float($0 % dim) }
        let body = try NPZ.encode(["ids": NPYArray(int64s: ids), "vectors": NPYArray(floats: values, shape: [n, dim])])
        #expect(try await s.call("PUT", "/v1/spaces/\(name)/vectors", body: body, contentType: "application/x-npz").status == 200)
        return (ids, values)
    }

    @Test(arguments: Backend.all) func aWholeSpaceDownloadsInPagesInEveryFormat(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let n = VectorDownload.pageRows * 2 + 37, dim = 6
        let (ids, values) = try await loadSpace(s, n: n, dim: dim)

        let json = try await s.call("GET", "/v1/spaces/sp/vectors")
        #expect(json.status == 200 && json.headers["content-type"] == "application/json")
        let object = try #require(json.json)
        #expect(object["ids"]?.arrayValue?.compactMap { $0.intValue.map(Int64.init) } == ids)
        #expect(object["dim"]?.intValue == dim && object["space"]?.stringValue == "sp")
        let rows = try #require(object["vectors"]?.arrayValue)
        #expect(rows.flatMap { $0.arrayValue?.compactMap { $0.doubleValue.map(Float.init) } ?? [] } == values)

        let npy = try await s.call("GET", "/v1/spaces/sp/vectors?format=npy")
        #expect(npy.headers["content-length"] == String(npy.body.count))
        let array = try NPYArray(data: npy.body)
        #expect(try array.shape == [n, dim] && array.floats() == values)

        let npz = try await s.call("GET", "/v1/spaces/sp/vectors", headers: ["Accept": "application/x-npz"])
        #expect(npz.headers["content-length"] == String(npz.body.count))
        let members = try NPZ.decode(npz.body)
        #expect(try members["ids"]?.int64s() == ids)
        #expect(try members["rows"]?.int64s() == Array(repeating: 1, count: n))
        #expect(try members["vectors"]?.floats() == values && members["vectors"]?.shape == [n, dim])

        // A subset in the caller's order, across pages.
        let pick = [ids[n - 1], ids[0], ids[VectorDownload.pageRows]]
        let some = try await s.call("GET", "/v1/spaces/sp/vectors?format=npy&ids=" + pick.map(String.init).joined(separator: ","))
        let rowsOf = pick.map { id in Array(values[(ids.firstIndex(of: id)! * dim)..<((ids.firstIndex(of: id)! + 1) * dim)]) }
        #expect(try NPYArray(data: some.body).floats() == rowsOf.flatMap { $0 })
    }

    @Test(arguments: Backend.all) func tokenSpacesDownloadTheirMatrices(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let (ids, _) = try await loadSpace(s, n: 3, dim: 2)
        #expect(try await s.call("POST", "/v1/spaces", json: ["name": "tok", "kind": "sig_tokens", "dim": 2]).status == 201)
        let values = (0..<12).map(Float.init)  // rows 2, 3, 1 → 6 vectors of 2
        let body = try NPZ.encode(["ids": NPYArray(int64s: ids), "vectors": NPYArray(floats: values, shape: [6, 2]),
                               "rows": NPYArray(int64s: [2, 3, 1])])
        #expect(try await s.call("PUT", "/v1/spaces/tok/vectors", body: body, contentType: "application/x-npz").status == 200)
        let npz = try NPZ.decode(try await s.call("GET", "/v1/spaces/tok/vectors?format=npz").body)
        #expect(try npz["rows"]?.int64s() == [2, 3, 1] && npz["vectors"]?.floats() == values)
        let json = try await s.call("GET", "/v1/spaces/tok/vectors").json
        #expect(json?["vectors"]?.arrayValue?[1] == [[4, 5], [6, 7], [8, 9]])
        #expect(try await s.call("GET", "/v1/spaces/tok/vectors?format=npy").errorCode == "npy_needs_one_id")
    }

    @Test(arguments: Backend.all) func idListsAreDedupedAndCapped(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let (ids, _) = try await loadSpace(s, n: 3, dim: 2)
        let repeated = Array(repeating: String(ids[1]), count: 2_000) + [String(ids[0]), String(ids[1])]
        let r = try await s.call("GET", "/v1/spaces/sp/vectors?ids=" + repeated.joined(separator: ","))
        #expect(r.status == 200 && r.json?["ids"] == .array([.number(Double(ids[1])), .number(Double(ids[0]))]))
        #expect(r.body.count < 200)
        let tooMany = Array(repeating: "1", count: APIServer.maxListedIDs + 1).joined(separator: ",")
        #expect(try await s.call("GET", "/v1/spaces/sp/vectors?ids=" + tooMany).errorCode == "too_many_ids")
    }

    /// The longest list a request line holds: 10,000 entries in ~40 KB of `?ids=` (issue 14: 60 KB
    /// lists), here 1,000 functions ten times over, read once each in first-seen order.
    @Test(arguments: Backend.all) func aTenThousandEntryIDListIsRead(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let (ids, values) = try await loadSpace(s, n: 1_000, dim: 2)
        let list = Array(repeating: ids.reversed().map(String.init), count: APIServer.maxListedIDs / ids.count).flatMap { $0 }
        #expect(list.count == APIServer.maxListedIDs)
        let r = try await s.call("GET", "/v1/spaces/sp/vectors?format=npz&ids=" + list.joined(separator: ","))
        #expect(r.status == 200)
        let npz = try NPZ.decode(r.body)
        #expect(try npz["ids"]?.int64s() == Array(ids.reversed()))
        let expected = (0..<ids.count).reversed().flatMap { Array(values[($0 * 2)..<($0 * 2 + 2)]) }
        #expect(try npz["vectors"]?.floats() == expected)
    }

    @Test(arguments: Backend.all) func unknownFormatsAndNullSettingsAreRefused(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        _ = try await loadSpace(s, n: 2, dim: 2)
        let r = try await s.call("GET", "/v1/spaces/sp/vectors?format=AAA")
        #expect(r.status == 400 && r.errorCode == "invalid_format")
        #expect(try await s.call("POST", "/v1/embed?format=AAA", json: ["texts": ["x"]]).errorCode == "invalid_format")
        for key in ["metric", "dtype", "index_factory"] {
            let body = JSONValue.object(["name": "n", "kind": "custom", "dim": 2, key: .null])
            let r = try await s.call("POST", "/v1/spaces", json: body)
            #expect(r.status == 400 && r.errorCode == "invalid_json", "\(key): \(String(decoding: r.body, as: UTF8.self))")
        }
        #expect(try await s.call("GET", "/v1/spaces/n").status == 404)
    }

    @Test(arguments: Backend.all) func nulIsRefusedInIdentifiersAndKeptInText(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        func function(repo: String, name: String = "f", signature: String = "def f():") -> JSONValue {
            ["functions": [["repo": .string(repo), "path": "m.py", "qualified_name": .string(name), "start_line": 1, "end_line": 2,
                            "signature": .string(signature), "body": "    pass\n"]]]
        }
        for body in [function(repo: "a\u{0}x"), function(repo: "a", name: "f\u{0}g")] {
            let r = try await s.call("POST", "/v1/functions", json: body)
            #expect(r.status == 400 && r.errorCode == "invalid_function", "\(String(decoding: r.body, as: UTF8.self))")
        }
        let ok = try await s.call("POST", "/v1/functions", json: function(repo: "a", signature: "def f(x='\u{0}'):"))
        let id = try #require(ok.json?["ids"]?.arrayValue?.first?.intValue)
        #expect(try await s.call("GET", "/v1/functions/\(id)").json?["signature"] == "def f(x='\u{0}'):")
        #expect(try await s.call("GET", "/v1/stats").json?["store"]?["repositories"] == 1)
    }

    @Test(arguments: Backend.all) func indexFactoriesAreCheckedAtCreation(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        for factory in ["Bogus", "IVF8,PQ5", "HNSW1"] {
            let r = try await s.call("POST", "/v1/spaces", json: ["name": "x", "kind": "custom", "dim": 8, "index_factory": .string(factory)])
            #expect(r.status == 422 && r.errorCode == "invalid_index", "\(factory): \(String(decoding: r.body, as: UTF8.self))")
        }
        #expect(try await s.call("GET", "/v1/spaces/x").status == 404)
        let ok = try await s.call("POST", "/v1/spaces", json: ["name": "x", "kind": "custom", "dim": 8, "index_factory": "IVF4,PQ4"])
        #expect(ok.status == 201)
    }

    @Test(arguments: Backend.all) func aCommittedUploadSucceedsWhenItsIndexCannotBeBuiltYet(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let (ids, _) = try await loadSpace(s, n: 3, dim: 4)
        // IVF64 needs training vectors the space does not have yet: the index cannot follow this write.
        #expect(try await s.call("POST", "/v1/spaces", json: ["name": "ivf", "kind": "custom", "dim": 4, "index_factory": "IVF64,Flat"]).status == 201)
        let put = try await s.call("PUT", "/v1/spaces/ivf/vectors",
                                   json: ["ids": .array(ids.map { .number(Double($0)) }), "vectors": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]])
        #expect(put.status == 200, "\(String(decoding: put.body, as: UTF8.self))")
        #expect(try await s.call("GET", "/v1/spaces/ivf").json?["count"] == 3)
        // The index problem is answered where it matters: by the search, not the committed write.
        let search = try await s.call("POST", "/v1/spaces/ivf/search", json: ["vectors": [[1, 0, 0, 0]], "k": 1])
        #expect(search.status == 422 && search.errorCode == "invalid_index")
    }

    /// SQLite-only: it fills and locks the SQLite file itself (PRAGMA max_page_count, BEGIN IMMEDIATE);
    /// PostgreSQL's outage answer (503 store_unavailable) is PostgresProcessTests' restart test.
    @Test func storageFaultsAre507And503WithAGenericMessage() async throws {
        let s = try await LiveServer(.sqlite)
        let sqlite = try s.sqlite
        defer { Task { await s.stop() } }
        func functions(_ prefix: String, _ n: Int, size: Int) -> JSONValue {
            ["functions": .array((0..<n).map { i in
                ["repo": "r", "path": "m.py", "qualified_name": .string("\(prefix)\(i)"), "start_line": 1, "end_line": 2,
                 "signature": "def f():", "body": .string(String(repeating: "x", count: size))]
            })]
        }
        #expect(try await s.call("POST", "/v1/functions", json: functions("a", 1, size: 10)).status == 200)
        try await sqlite.write { db in
            let pages = try db.first("PRAGMA page_count", []) { $0.int(0) }!
            try db.execute("PRAGMA max_page_count = \(pages)")
        }
        let full = try await s.call("POST", "/v1/functions", json: functions("b", 100, size: 4_000))
        #expect(full.status == 507 && full.errorCode == "storage_full")
        #expect(!String(decoding: full.body, as: UTF8.self).contains("SQLite"))
        try await sqlite.write { db in try db.execute("PRAGMA max_page_count = 1073741823; PRAGMA busy_timeout = 100") }

        let other = try SQLiteConnection(path: sqlite.path)
        try other.execute("BEGIN IMMEDIATE")
        let busy = try await s.call("POST", "/v1/functions", json: functions("c", 1, size: 10))
        try other.execute("ROLLBACK")
        #expect(busy.status == 503 && busy.errorCode == "store_unavailable")
        #expect(!String(decoding: busy.body, as: UTF8.self).contains("locked"))
        #expect(try await s.call("POST", "/v1/functions", json: functions("c", 1, size: 10)).status == 200)
    }
}
