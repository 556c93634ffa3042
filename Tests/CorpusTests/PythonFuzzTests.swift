import Core
import Foundation
import Testing
import TestSupport
@testable import Corpus

/// Fuzzing of the Python front end (source decoding, tokenizer, parser): any bytes either extract or
/// throw `CorpusError`, and the tokenizer alone returns tokens inside the source or throws
/// `PythonSyntaxError`. Seeds: Fixtures/fuzz/python and the hand-written cases of Fixtures/python.
@Suite(.serialized, .ownThreads) struct PythonFuzzTests {
    static let seeds: [(name: String, bytes: [UInt8])] =
        ["fuzz/python", "python"].flatMap { (try? Fuzz.seeds(in: Paths.fixtures.appendingPathComponent($0))) ?? [] }

    static let dictionary = ["def ", "async ", "class ", "lambda", "f'", "rf'", "b'", "'''", "\"\"\"", "{", "}", "{{", "\\",
                             "\n", "\t", "    ", "(", ")", "[", "]", ":", "@", "# -*- coding: latin-1 -*-\n", "\u{FEFF}", "\r\n",
                             "0x", "1_0", "...", "->", ":=", "\\\n"].map { Array($0.utf8) }

    @Test func fuzzTokenizer() {
        let run = Fuzz.run(target: "python-tokenizer", seeds: Self.seeds.map(\.bytes), dictionary: Self.dictionary,
                           iterations: Fuzz.iterations(default: 4_000)) { bytes in
            let tokens = try PythonTokenizer.tokenize(bytes)
            for t in tokens where t.start < 0 || t.end < t.start || Int(t.end) > bytes.count {
                Issue.record("token \(t) outside a \(bytes.count)-byte source")
                break
            }
        } accepts: { $0 is PythonSyntaxError }
        #expect(run.unexpected.isEmpty, "\(run.unexpected.map(\.error))")
        #expect(run.parsed > 0 && run.rejected > 0)
    }

    @Test func fuzzExtractor() {
        let run = Fuzz.run(target: "python-extractor", seeds: Self.seeds.map(\.bytes), dictionary: Self.dictionary,
                           iterations: Fuzz.iterations(default: 2_000), seed: Fuzz.seed &+ 1) { bytes in
            _ = try PythonExtractor.extract(source: Data(bytes), path: "fuzz.py")
        } accepts: { $0 is CorpusError }
        #expect(run.unexpected.isEmpty, "\(run.unexpected.map(\.error))")
        #expect(run.parsed > 0 && run.rejected > 0)
    }
}
