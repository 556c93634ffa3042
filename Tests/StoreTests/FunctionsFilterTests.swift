import Core
import Foundation
import Store
import Testing
import TestSupport

/// `FunctionQuery`'s filters on both backends: `path` a prefix, `signature` and `text` substrings,
/// all literal (LIKE's `%`, `_` and `\` are plain characters) and case-sensitive, combined with
/// each other, the repository and the cursor.
@Suite struct FunctionsFilterTests {
    static let items: [FunctionInput] = [
        ("a", "src/io/json.py", "read_json", "def read_json(path):"),
        ("a", "src/io/json.py", "write_json", "def write_json(path, value):"),
        ("a", "src/io_util.py", "copy", "def copy(src, dst):"),
        ("a", "src/%io/x.py", "pct", "def pct(rate=0.5):  # 50% of it"),
        ("a", "src/_io/y.py", "under", "def under(a_b):"),
        ("b", "src/io/json.py", "read_json", "def read_json(path, *, strict=False):"),
        ("b", "Src/IO/case.py", "Upper", "def Upper(PATH):"),
        ("b", "tests/test_io.py", "test_read", "@pytest.mark.slow\ndef test_read(tmp_path):\n    \"\"\"Reads back — ünïcode.\"\"\""),
        ("b", "lib\\win.py", "win", "def win(p=\"C:\\\\x\"):"),
    ].map { r, p, n, s in FunctionInput(repo: r, path: p, qualifiedName: n, startLine: 1, endLine: 2, signature: s, body: "    pass\n") }

    func names(_ store: any StoreBackend, _ q: FunctionQuery) async throws -> [String] {
        try await store.functions(q).map { "\($0.repo):\($0.qualifiedName)" }
    }

    @Test(arguments: Backend.all) func pathIsALiteralCaseSensitivePrefix(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        _ = try await store.upsertFunctions(Self.items)
        #expect(try await names(store, FunctionQuery(path: "src/io/")) == ["a:read_json", "a:write_json", "b:read_json"])
        #expect(try await names(store, FunctionQuery(path: "src/io")) == ["a:read_json", "a:write_json", "a:copy", "b:read_json"])
        #expect(try await names(store, FunctionQuery(path: "src/io/json.py")) == ["a:read_json", "a:write_json", "b:read_json"])
        #expect(try await names(store, FunctionQuery(path: "src/%")) == ["a:pct"])        // not a wildcard
        #expect(try await names(store, FunctionQuery(path: "src/_io")) == ["a:under"])    // nor is _
        #expect(try await names(store, FunctionQuery(path: "lib\\")) == ["b:win"])         // nor an escape
        #expect(try await names(store, FunctionQuery(path: "Src/")) == ["b:Upper"])       // case counts
        #expect(try await names(store, FunctionQuery(path: "io/")).isEmpty)               // a prefix, not a substring
        #expect(try await names(store, FunctionQuery(path: "")).count == Self.items.count)
        #expect(try await names(store, FunctionQuery(repo: "b", path: "src/")) == ["b:read_json"])
    }

    @Test(arguments: Backend.all) func signatureIsALiteralCaseSensitiveSubstring(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        _ = try await store.upsertFunctions(Self.items)
        #expect(try await names(store, FunctionQuery(signature: "(path")) == ["a:read_json", "a:write_json", "b:read_json"])
        #expect(try await names(store, FunctionQuery(signature: "PATH")) == ["b:Upper"])
        #expect(try await names(store, FunctionQuery(signature: "50%")) == ["a:pct"])
        #expect(try await names(store, FunctionQuery(signature: "%")) == ["a:pct"])
        #expect(try await names(store, FunctionQuery(signature: "a_b")) == ["a:under"])
        #expect(try await names(store, FunctionQuery(signature: "_")) == ["a:read_json", "a:write_json", "a:under", "b:read_json", "b:test_read"])
        #expect(try await names(store, FunctionQuery(signature: "C:\\\\x")) == ["b:win"])
        #expect(try await names(store, FunctionQuery(signature: "@pytest")) == ["b:test_read"])         // decorators
        #expect(try await names(store, FunctionQuery(signature: "ünïcode")) == ["b:test_read"])         // docstring, UTF-8
        #expect(try await names(store, FunctionQuery(signature: "strict=False")) == ["b:read_json"])
        // Combined with the other filters and the cursor.
        #expect(try await names(store, FunctionQuery(repo: "a", signature: "(path")) == ["a:read_json", "a:write_json"])
        #expect(try await names(store, FunctionQuery(path: "src/io/", text: "write", signature: "value")) == ["a:write_json"])
        let first = try await store.functions(FunctionQuery(signature: "(path", limit: 1))
        #expect(first.map(\.qualifiedName) == ["read_json"])
        #expect(try await names(store, FunctionQuery(signature: "(path", limit: 5, after: first[0].id)) == ["a:write_json", "b:read_json"])
        // `text` (?q=): the qualified name or the path, literally.
        #expect(try await names(store, FunctionQuery(text: "_io")) == ["a:under", "b:test_read"])
        #expect(try await names(store, FunctionQuery(text: "json")) == ["a:read_json", "a:write_json", "b:read_json"])
    }
}
