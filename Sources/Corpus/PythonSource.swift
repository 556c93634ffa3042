import Foundation

// Reading a .py file the way CPython does: UTF-8 BOM, PEP 263 encoding cookie on line 1 or 2,
// UTF-8 by default. The result is always UTF-8 bytes (offsets in this module index these bytes).

/// A decoded Python source file.
public struct PythonSource: Sendable {
    /// The text as UTF-8 bytes, without a BOM; newlines as in the file.
    public var utf8: [UInt8]
    /// Encoding name as declared (normalised, e.g. "utf-8", "latin-1", "cp1252"); "utf-8" by default.
    public var encoding: String

    /// Decodes raw file bytes. Throws `CorpusError.decoding` for unknown encodings or invalid bytes.
    ///
    ///     let src = try PythonSource(data: Data("# -*- coding: latin-1 -*-\nx = '\u{e9}'\n".utf8))
    public init(data: Data, path: String = "<memory>") throws {
        var bytes = [UInt8](data)
        var hadBOM = false
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            bytes.removeFirst(3)
            hadBOM = true
        }
        let declared = PythonSource.cookie(bytes)
        let name = declared.map(PythonSource.normalise) ?? "utf-8"
        if hadBOM && name != "utf-8" {
            throw CorpusError.decoding(path: path, reason: "encoding problem: \(name) with BOM")
        }
        encoding = name
        switch name {
        case "utf-8":
            guard String(validating: bytes, as: UTF8.self) != nil else {
                throw CorpusError.decoding(path: path, reason: "invalid utf-8 (no or utf-8 encoding declaration)")
            }
            utf8 = bytes
        case "ascii":
            if let bad = bytes.firstIndex(where: { $0 >= 0x80 }) {
                throw CorpusError.decoding(path: path, reason: "non-ascii byte at offset \(bad) in an ascii file")
            }
            utf8 = bytes
        case "latin-1":
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            for b in bytes {
                if b < 0x80 { out.append(b) } else { out.append(0xC0 | (b >> 6)); out.append(0x80 | (b & 0x3F)) }
            }
            utf8 = out
        case "iso-8859-5":
            // Cyrillic, a single-byte table Foundation lacks: A1…FF are U+0401…U+045F but for three bytes.
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count * 2)
            for b in bytes {
                let scalar: UInt32 = b < 0xA1 || b == 0xAD ? UInt32(b) : b == 0xF0 ? 0x2116 : b == 0xFD ? 0xA7 : UInt32(b) + 0x360
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            }
            utf8 = out
        default:
            let enc: String.Encoding
            switch name {
            case "cp1252": enc = .windowsCP1252
            case "cp1250": enc = .windowsCP1250
            case "cp1251": enc = .windowsCP1251
            case "cp1253": enc = .windowsCP1253
            case "cp1254": enc = .windowsCP1254
            case "latin-2": enc = .isoLatin2
            case "shift_jis": enc = .shiftJIS
            case "euc-jp": enc = .japaneseEUC
            case "iso-2022-jp": enc = .iso2022JP
            case "utf-16": enc = .utf16
            default:
                throw CorpusError.decoding(path: path, reason: "unknown encoding: \(declared ?? name)")
            }
            guard let s = String(data: Data(bytes), encoding: enc) else {
                throw CorpusError.decoding(path: path, reason: "bytes are not valid \(name)")
            }
            utf8 = Array(s.utf8)
        }
    }

    /// The PEP 263 cookie (`coding[:=]\s*([-\w.]+)` in a comment on line 1, or line 2 if line 1 is blank or a comment).
    static func cookie(_ b: [UInt8]) -> String? {
        var lineStart = 0
        for lineNo in 0..<2 {
            var e = lineStart
            while e < b.count && b[e] != 10 && b[e] != 13 { e += 1 }
            let line = b[lineStart..<e]
            // Leading whitespace, then '#'.
            var j = line.startIndex
            while j < line.endIndex, line[j] == 32 || line[j] == 9 || line[j] == 12 { j += 1 }
            if j < line.endIndex && line[j] == 35 {
                let text = String(decoding: line[j...], as: UTF8.self)
                var from = text.startIndex
                while let r = text.range(of: "coding", range: from..<text.endIndex) {
                    from = r.upperBound
                    var rest = text[r.upperBound...]
                    if let c = rest.first, c == ":" || c == "=" {
                        rest = rest.dropFirst()
                        rest = rest.drop(while: { $0 == " " || $0 == "\t" })
                        let name = rest.prefix(while: { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
                        if !name.isEmpty { return String(name) }
                    }
                }
            } else if j < line.endIndex {
                return nil // line 1 holds code: line 2 is not looked at
            }
            if lineNo == 1 || e >= b.count { break }
            lineStart = e + (b[e] == 13 && e + 1 < b.count && b[e + 1] == 10 ? 2 : 1)
        }
        return nil
    }

    /// CPython's normalisation of common encoding aliases.
    static func normalise(_ raw: String) -> String {
        let s = raw.lowercased().replacingOccurrences(of: "_", with: "-")
        if s == "utf-8" || s.hasPrefix("utf-8-") || s == "utf8" { return "utf-8" }
        if ["latin-1", "iso-8859-1", "iso8859-1", "latin1", "l1", "iso-latin-1", "8859", "cp819"].contains(s)
            || s.hasPrefix("latin-1-") || s.hasPrefix("iso-8859-1-") || s.hasPrefix("iso-latin-1-") { return "latin-1" }
        if ["ascii", "us-ascii", "646"].contains(s) { return "ascii" }
        if ["cp1252", "windows-1252"].contains(s) { return "cp1252" }
        if ["cp1250", "windows-1250"].contains(s) { return "cp1250" }
        if ["cp1251", "windows-1251"].contains(s) { return "cp1251" }
        if ["cp1253", "windows-1253"].contains(s) { return "cp1253" }
        if ["cp1254", "windows-1254"].contains(s) { return "cp1254" }
        if ["iso-8859-2", "iso8859-2", "latin2", "latin-2", "l2"].contains(s) { return "latin-2" }
        if ["iso-8859-5", "iso8859-5", "cyrillic", "iso-ir-144", "csisolatincyrillic"].contains(s) { return "iso-8859-5" }
        if ["shift-jis", "sjis", "shiftjis", "s-jis"].contains(s) { return "shift_jis" }
        if ["euc-jp", "eucjp", "ujis"].contains(s) { return "euc-jp" }
        if ["iso-2022-jp", "iso2022-jp", "iso2022jp"].contains(s) { return "iso-2022-jp" }
        if ["utf-16", "utf16"].contains(s) { return "utf-16" }
        return s
    }
}

/// Errors of the Corpus module.
public enum CorpusError: Error, Sendable, CustomStringConvertible {
    case decoding(path: String, reason: String)
    case syntax(path: String, line: Int, reason: String)
    case io(path: String, reason: String)
    case git(command: String, status: Int32, stderr: String)

    public var description: String {
        switch self {
        case let .decoding(path, reason): return "\(path): cannot decode: \(reason)"
        case let .syntax(path, line, reason): return "\(path):\(line): \(reason)"
        case let .io(path, reason): return "\(path): \(reason)"
        case let .git(command, status, stderr): return "git \(command) exited \(status): \(stderr)"
        }
    }
}
