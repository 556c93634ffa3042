import Core
import Foundation

/// Extracts every `def`/`async def` of a Python file with its texts, spans, hashes and properties.
///
///     let fns = try PythonExtractor.extract(source: Data("class A:\n    def m(self): return 1\n".utf8), path: "a.py")
///     // fns[0].qualifiedName == "A.m", fns[0].properties.isMethod == true
public enum PythonExtractor {
    /// Decodes, tokenizes and parses `source`; throws `CorpusError.decoding` or `CorpusError.syntax`.
    public static func extract(source: Data, path: String) throws -> [PythonFunction] {
        let decoded = try PythonSource(data: source, path: path)
        return try extract(utf8: decoded.utf8, path: path)
    }

    /// Same as `extract(source:path:)` for already-decoded UTF-8 text.
    public static func extract(utf8 bytes: [UInt8], path: String) throws -> [PythonFunction] {
        let tokens: [PythonToken]
        do { tokens = try PythonTokenizer.tokenize(bytes) } catch let e as PythonSyntaxError {
            throw CorpusError.syntax(path: path, line: e.line, reason: e.message)
        }
        return try bytes.withUnsafeBufferPointer { buf in
            var parser = PythonParser(tokens: tokens, source: buf)
            do { _ = try parser.parseModule() } catch let e as PythonSyntaxError {
                throw CorpusError.syntax(path: path, line: e.line, reason: e.message)
            }
            var lineStarts = [0]
            lineStarts.reserveCapacity(bytes.count / 30)
            var k = 0
            let n = buf.count
            while k < n {
                let c = buf[k]
                if c == 10 { lineStarts.append(k + 1) } else if c == 13 {
                    if k + 1 < n && buf[k + 1] == 10 { k += 1 }
                    lineStarts.append(k + 1)
                }
                k += 1
            }
            var seen: [String: Int] = [:]
            var out: [PythonFunction] = []
            out.reserveCapacity(parser.functions.count)
            let metrics = PythonMetrics(parser: parser)
            for f in parser.functions {
                let st = parser.statements[f.statement]
                let decoTok = tokens[st.decoratorFirst]
                let defTok = tokens[st.first]
                let lastTok = tokens[st.last]
                let startByte = lineStarts[Int(decoTok.line) - 1]
                let doc = metrics.docstringStatement(f.statement)
                let sigEnd = doc.map { Int(tokens[parser.statements[$0].last].end) } ?? Int(tokens[st.headerEnd].end)
                let endByte = Int(lastTok.end)
                let bodyStart = min(bodyStartOffset(after: sigEnd, in: buf), endByte)
                let occurrence = seen[f.qualifiedName, default: 0]
                seen[f.qualifiedName] = occurrence + 1
                let sigBytes = UnsafeBufferPointer(rebasing: buf[startByte..<sigEnd])
                let bodyBytes = UnsafeBufferPointer(rebasing: buf[bodyStart..<endByte])
                let signature = String(decoding: sigBytes, as: UTF8.self)
                let body = String(decoding: bodyBytes, as: UTF8.self)
                out.append(PythonFunction(
                    path: path, qualifiedName: f.qualifiedName, occurrence: occurrence,
                    startLine: Int(decoTok.line), defLine: Int(defTok.line), endLine: Int(lastTok.endLine),
                    startByte: startByte, defByte: Int(defTok.start), signatureEndByte: sigEnd,
                    bodyStartByte: bodyStart, endByte: endByte,
                    signature: signature,
                    body: body,
                    contentHash: FunctionHash.content(signature: sigBytes, body: bodyBytes),
                    bodyHash: FunctionHash.body(bodyBytes),
                    properties: metrics.properties(of: f, docstring: doc)))
            }
            return out
        }
    }

    /// Where the body text starts after the signature ending at `sigEnd`: skip blanks (and a `;`);
    /// if the rest of the line is empty or a comment, the body starts at the next line.
    static func bodyStartOffset(after sigEnd: Int, in buf: UnsafeBufferPointer<UInt8>) -> Int {
        var k = sigEnd
        let n = buf.count
        while k < n, buf[k] == 32 || buf[k] == 9 || buf[k] == 12 { k += 1 }
        if k < n, buf[k] == 59 {
            k += 1
            while k < n, buf[k] == 32 || buf[k] == 9 || buf[k] == 12 { k += 1 }
        }
        if k < n, buf[k] == 35 { while k < n, buf[k] != 10, buf[k] != 13 { k += 1 } }
        if k < n, buf[k] == 13 { k += 1; if k < n, buf[k] == 10 { k += 1 }; return k }
        if k < n, buf[k] == 10 { return k + 1 }
        return k
    }
}
