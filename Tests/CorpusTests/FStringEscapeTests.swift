import Corpus
import Foundation
import Testing

/// Backslashes inside f-strings (issue 12, item 12): files of real packages were skipped with
/// "unterminated string literal". Each source is valid Python 3.12 (and 3.11, but for the nested case);
/// the function after the string must be found with its line span, which a mis-scanned string would
/// swallow or break.
@Suite struct FStringEscapeTests {
    static let cases: [(String, String)] = [
        // jinja2-style: a backslash before a doubled brace in a raw f-string.
        ("raw f-string, backslash before {{", #"return rf'(\{{%)(-?\s*)(filter)(\s+)({x})'"#),
        ("raw f-string, backslash before }}", #"return rf'\}}{x}\}}'"#),
        ("f-string, backslash before a field", #"return f'\{x}'"#),
        ("f-string, named escape", #"return f'\N{BULLET} {x} \N{EM DASH}'"#),
        ("raw f-string, \\N is no escape", #"return rf'\N{x}'"#),
        ("format spec with a backslash", #"return f'{x:\{{y}}}'"#),
        ("nested raw f-string (3.12)", #"return f"{rf'\{{{x}'}""#),
        ("escaped quote still escapes", #"return f'\'{x}\''"#),
    ]

    @Test(arguments: 0..<cases.count) func functionAfterTheStringIsFound(_ k: Int) throws {
        let (label, statement) = Self.cases[k]
        let source = "def f(x, y=1):\n    \(statement)\n\n\ndef g():\n    return 2\n"
        let fns = try PythonExtractor.extract(source: Data(source.utf8), path: "escapes.py")
        #expect(fns.map(\.qualifiedName) == ["f", "g"], "\(label)")
        #expect(fns.map(\.endLine) == [2, 6], "\(label)")
    }
}
