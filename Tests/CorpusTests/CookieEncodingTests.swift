import Corpus
import Foundation
import Testing

/// PEP 263 cookies met in installed packages (IPython's tests declare iso-8859-5): decoded as CPython does.
@Suite struct CookieEncodingTests {
    @Test func iso8859_5IsDecoded() throws {
        // "Привет № § ё Ё" in iso-8859-5 (bytes from Python's codec), inside a function.
        let text: [UInt8] = [191, 224, 216, 210, 213, 226, 32, 240, 32, 253, 32, 241, 32, 161]
        for cookie in ["iso-8859-5", "cyrillic", "ISO_8859_5"] {
            let source = Array("# -*- coding: \(cookie) -*-\ndef f():\n    return '".utf8) + text + Array("'\n".utf8)
            let fns = try PythonExtractor.extract(source: Data(source), path: "cyrillic.py")
            #expect(fns.map(\.body) == ["    return 'Привет № § ё Ё'"], "\(cookie)")
        }
    }
}
