import Core
import Foundation
import Testing
import TestSupport
@testable import Server
import Store

/// `GET /v1/functions?path=…&signature=…&q=…` over HTTP on both backends: the filters reach the store
/// percent-decoded and literal, and answer as the spec says.
@Suite struct FunctionsFilterRouteTests {
    @Test(arguments: Backend.all) func pathPrefixAndSignatureSubstringOverHTTP(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let items = [("src/io/json.py", "read_json", "def read_json(path):"), ("src/io/json.py", "dump", "def dump(value, rate=\"100%\"):"),
                     ("src/iox.py", "other", "def other(path):"), ("tests/t.py", "test_it", "def test_it():")]
        let ids = try await s.store.upsertFunctions(items.map {
            FunctionInput(repo: "demo", path: $0.0, qualifiedName: $0.1, startLine: 1, endLine: 2, signature: $0.2, body: "    pass\n")
        }).ids
        func listed(_ query: String) async throws -> [Int64] {
            let r = try await s.call("GET", "/v1/functions?\(query)")
            #expect(r.status == 200, "\(query): \(r.json?.jsonString() ?? "")")
            return (r.json?["functions"]?.arrayValue ?? []).map { Int64($0["id"]?.intValue ?? -1) }
        }
        #expect(try await listed("path=src/io/") == [ids[0], ids[1]])
        #expect(try await listed("path=src/io") == [ids[0], ids[1], ids[2]])
        #expect(try await listed("signature=%28path") == [ids[0], ids[2]])                 // "(path"
        #expect(try await listed("signature=100%25") == [ids[1]])                          // "100%": literal
        #expect(try await listed("signature=%25") == [ids[1]])
        #expect(try await listed("path=src%2F&signature=path&q=read") == [ids[0]])
        #expect(try await listed("path=&signature=") == ids)                                // empty: no filter
        #expect(try await listed("path=tests/&signature=path").isEmpty)
    }
}
