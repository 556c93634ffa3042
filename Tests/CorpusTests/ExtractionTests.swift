import Core
import Corpus
import Foundation
import Testing
import TestSupport

/// Hand-written hard cases (Fixtures/python) against Python's `ast` (Fixtures/reference.json, produced by
/// scripts/reference/corpus_ast.py Fixtures/python).
@Suite(.ownThreads) struct ExtractionTests {
    static func reference() throws -> ReferenceOutput {
        let data = try Data(contentsOf: Paths.fixtures.appendingPathComponent("reference.json"))
        return try JSONDecoder().decode(ReferenceOutput.self, from: data)
    }

    static func scan() throws -> CorpusScan {
        var options = CorpusScanner.Options()
        options.useGitIgnore = false
        return try CorpusScanner.scan(root: Paths.fixtures.appendingPathComponent("python"), options: options)
    }

    @Test func everyFunctionAndPropertyMatchesAst() throws {
        let reference = try Self.reference()
        let scan = try Self.scan()
        var mine: [String: [PythonFunction]] = [:]
        for f in scan.functions { mine[f.path, default: []].append(f) }
        var compared = 0
        for file in reference.files where file.error == nil {
            let ours = mine[file.path] ?? []
            #expect(ours.count == file.functions.count, "\(file.path): \(ours.count) functions vs ast \(file.functions.count)")
            for (f, r) in zip(ours, file.functions) {
                let d = differences(f, r)
                #expect(d.isEmpty, "\(file.path) \(r.qualified_name) line \(r.def_line): \(d)")
                compared += 1
            }
        }
        #expect(compared >= 40)
    }

    @Test func filesThatDoNotParseAreReportedAndSkipped() throws {
        let reference = try Self.reference()
        let scan = try Self.scan()
        let refFailures = Set(reference.files.filter { $0.error != nil }.map(\.path))
        let ours = Set(scan.failures.map(\.path))
        #expect(ours == refFailures, "ours \(scan.failures) vs ast \(refFailures)")
        for f in scan.failures { #expect(!f.reason.isEmpty) }
        // The other files are still extracted.
        #expect(Set(scan.files.map(\.path)) == Set(reference.files.filter { $0.error == nil }.map(\.path)))
    }

    @Test func encodingsAreDecodedToUTF8() throws {
        let scan = try Self.scan()
        let latin = try #require(scan.functions.first { $0.path == "latin1_cookie.py" && $0.qualifiedName == "café" })
        #expect(latin.body.contains("été"))
        let cp = try #require(scan.functions.first { $0.path == "cp1252_cookie.py" })
        #expect(cp.body.contains("€ “quoted”"))
        #expect(scan.files.first { $0.path == "latin1_cookie.py" }?.encoding == "latin-1")
        #expect(scan.files.first { $0.path == "cp1252_cookie.py" }?.encoding == "cp1252")
    }

    @Test func extractorThrowsTypedErrors() throws {
        #expect(throws: CorpusError.self) { try PythonExtractor.extract(source: Data("def f(:\n".utf8), path: "x.py") }
        #expect(throws: CorpusError.self) { try PythonExtractor.extract(source: Data([0x64, 0xff, 0xfe]), path: "x.py") }
        #expect(throws: CorpusError.self) { try PythonExtractor.extract(source: Data("x = (\n".utf8), path: "x.py") }
        let fns = try PythonExtractor.extract(source: Data("def f(): return 1".utf8), path: "x.py")
        #expect(fns.map(\.qualifiedName) == ["f"])
        #expect(fns[0].signature == "def f():" && fns[0].body == "return 1")
    }
}

/// Corpus hashes with its own byte-level code; Core.FunctionHash is the reference the Store uses.
@Suite(.ownThreads) struct HashingTests {
    @Test func hashesEqualCoreFunctionHash() throws {
        let scan = try ExtractionTests.scan()
        var functions = scan.functions
        let sources = [
            "def g():\n\t\tx =  1\t\n\t\ty\n",
            "def g():\r\n    a  =   1   \r\n\r\n    if a:\r\n\t    b\r\n",
            "def g(): return  1\n",
            "class C:\n    def m(self):\n        s = 'x  y'\n\n\n        return  s\n",
            "def g():\n    \"\"\"doc\"\"\"\n    x = '\u{e9}\t\u{e9}'  \n",
        ]
        for src in sources { functions += try PythonExtractor.extract(source: Data(src.utf8), path: "odd.py") }
        for f in functions {
            #expect(f.contentHash == FunctionHash.content(signature: f.signature, body: f.body), "\(f.path) \(f.qualifiedName)")
            #expect(f.bodyHash == FunctionHash.body(f.body), "\(f.path) \(f.qualifiedName)")
        }
        #expect(scan.functions.count > 40)
    }
}
