// A Python tokenizer over UTF-8 bytes, following CPython's tokenizer rules
// (INDENT/DEDENT from an indentation stack, NEWLINE vs NL inside brackets,
// backslash continuations, string prefixes, triple quotes, f-strings with
// nested replacement fields as in PEP 701).

/// Kind of a Python token (the same kinds as CPython's `tokenize` module).
public enum PythonTokenKind: UInt8, Sendable, Codable {
    case name, number, string, op, newline, nl, comment, indent, dedent, endMarker
}

/// One token: kind plus byte range `[start, end)` in the UTF-8 source and its 1-based lines.
public struct PythonToken: Sendable, Equatable {
    public var kind: PythonTokenKind
    /// For `.name`: a `PythonKeyword` raw value (0 = plain identifier). For `.op`: the operator's first byte,
    /// or a `PythonOp` raw value for multi-byte operators that matter to the parser.
    public var code: UInt8
    public var start: Int32
    public var end: Int32
    public var line: Int32
    public var endLine: Int32
}

/// Hard and soft keywords the parser looks at (0 means "not a keyword").
public enum PythonKeyword: UInt8, Sendable {
    case none = 0
    case False, None, True, and, `as`, assert, async, await, `break`, `class`, `continue`, def, del, elif,
         `else`, except, finally, `for`, from, global, `if`, `import`, `in`, `is`, lambda, nonlocal, not, or,
         pass, raise, `return`, `try`, `while`, with, yield
    // Soft keywords: only keywords in some positions.
    case match, `case`, type, underscore

    static let table: [String: PythonKeyword] = {
        var t: [String: PythonKeyword] = [:]
        let hard: [(String, PythonKeyword)] = [
            ("False", .False), ("None", .None), ("True", .True), ("and", .and), ("as", .as), ("assert", .assert),
            ("async", .async), ("await", .await), ("break", .break), ("class", .class), ("continue", .continue),
            ("def", .def), ("del", .del), ("elif", .elif), ("else", .else), ("except", .except),
            ("finally", .finally), ("for", .for), ("from", .from), ("global", .global), ("if", .if),
            ("import", .import), ("in", .in), ("is", .is), ("lambda", .lambda), ("nonlocal", .nonlocal),
            ("not", .not), ("or", .or), ("pass", .pass), ("raise", .raise), ("return", .return), ("try", .try),
            ("while", .while), ("with", .with), ("yield", .yield),
            ("match", .match), ("case", .case), ("type", .type), ("_", .underscore),
        ]
        for (k, v) in hard { t[k] = v }
        return t
    }()

    /// True for reserved words (not soft keywords, which are also valid identifiers).
    var isHard: Bool { self != .none && rawValue < PythonKeyword.match.rawValue }
}

/// Multi-byte operators the parser distinguishes (codes above 127 so they never clash with ASCII bytes).
public enum PythonOp: UInt8, Sendable {
    case arrow = 200      // ->
    case walrus           // :=
    case doubleStar       // **
    case other            // any other multi-byte operator (+=, ==, //, ...)
}

/// A tokenize error: message plus 1-based line.
public struct PythonSyntaxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var description: String { "line \(line): \(message)" }
}

/// Tokenizes UTF-8 Python source.
///
///     let tokens = try PythonTokenizer.tokenize(Array("def f(): return 1\n".utf8))
///     // tokens.map(\.kind) == [.name, .name, .op, .op, .op, .name, .number, .newline, .endMarker]
public enum PythonTokenizer {
    @inline(__always) static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 || c >= 128
    }
    @inline(__always) static func isIdentChar(_ c: UInt8) -> Bool {
        isIdentStart(c) || (c >= 48 && c <= 57)
    }
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// Tokenizes `src`; throws `PythonSyntaxError` on what CPython's tokenizer rejects
    /// (unterminated strings or brackets, bad dedents, inconsistent tabs, stray characters).
    public static func tokenize(_ src: [UInt8]) throws -> [PythonToken] {
        try src.withUnsafeBufferPointer { buf in
            var scanner = Scanner(buf: buf)
            return try scanner.run()
        }
    }

    struct Scanner {
        let buf: UnsafeBufferPointer<UInt8>
        var tokens: [PythonToken] = []
        var pos = 0
        var line: Int32 = 1
        var indents: [Int] = [0]
        var altIndents: [Int] = [0]
        var depth = 0
        var brackets: [UInt8] = []

        init(buf: UnsafeBufferPointer<UInt8>) {
            self.buf = buf
            tokens.reserveCapacity(buf.count / 4)
        }

        @inline(__always) func at(_ i: Int) -> UInt8 { i < buf.count ? buf[i] : 0 }

        func fail(_ message: String, line: Int32? = nil) -> PythonSyntaxError {
            PythonSyntaxError(message: message, line: Int(line ?? self.line))
        }

        mutating func emit(_ kind: PythonTokenKind, _ code: UInt8, _ start: Int, _ end: Int, _ startLine: Int32) {
            tokens.append(PythonToken(kind: kind, code: code, start: Int32(start), end: Int32(end),
                                      line: startLine, endLine: line))
        }

        /// Consumes one newline sequence (\n, \r\n or \r) at `pos` if present.
        @inline(__always) mutating func eatNewline() -> Bool {
            let c = at(pos)
            if c == 10 { pos += 1; line += 1; return true }
            if c == 13 { pos += 1; if at(pos) == 10 { pos += 1 }; line += 1; return true }
            return false
        }

        mutating func run() throws -> [PythonToken] {
            let n = buf.count
            var atLineStart = true
            var continued = false
            var lastWasNewline = true   // last significant token was NEWLINE (or nothing yet)
            while true {
                if atLineStart && depth == 0 && !continued {
                    // Measure indentation.
                    var col = 0, alt = 0
                    let lineBegin = pos
                    while pos < n {
                        let c = buf[pos]
                        if c == 32 { col += 1; alt += 1 }
                        else if c == 9 { col = (col / 8 + 1) * 8; alt += 1 }
                        else if c == 12 { col = 0; alt = 0 }
                        else { break }
                        pos += 1
                    }
                    _ = lineBegin
                    let c = at(pos)
                    if pos >= n { break }
                    if c == 35 || c == 10 || c == 13 || (c == 92 && (at(pos + 1) == 10 || at(pos + 1) == 13)) {
                        // Blank or comment-only line: no indentation processing.
                        if c == 35 {
                            let s = pos
                            while pos < n && buf[pos] != 10 && buf[pos] != 13 { pos += 1 }
                            emit(.comment, 0, s, pos, line)
                        }
                        if c == 92 { pos += 1; _ = eatNewline(); continue }
                        let s = pos, l = line
                        if eatNewline() { emit(.nl, 0, s, pos, l) }
                        continue
                    }
                    if col > indents.last! {
                        if alt <= altIndents.last! { throw fail("inconsistent use of tabs and spaces in indentation") }
                        indents.append(col); altIndents.append(alt)
                        emit(.indent, 0, pos, pos, line)
                    } else if col < indents.last! {
                        while col < indents.last! {
                            indents.removeLast(); altIndents.removeLast()
                            emit(.dedent, 0, pos, pos, line)
                        }
                        if col != indents.last! {
                            throw fail("unindent does not match any outer indentation level")
                        }
                        if alt != altIndents.last! { throw fail("inconsistent use of tabs and spaces in indentation") }
                    } else if alt != altIndents.last! {
                        throw fail("inconsistent use of tabs and spaces in indentation")
                    }
                    atLineStart = false
                }
                continued = false
                // Skip intra-line whitespace.
                while pos < n, buf[pos] == 32 || buf[pos] == 9 || buf[pos] == 12 { pos += 1 }
                if pos >= n { break }
                let c = buf[pos]
                let s = pos, l = line
                if c == 35 {
                    while pos < n && buf[pos] != 10 && buf[pos] != 13 { pos += 1 }
                    emit(.comment, 0, s, pos, l)
                    continue
                }
                if c == 10 || c == 13 {
                    _ = eatNewline()
                    if depth > 0 { emit(.nl, 0, s, pos, l) } else {
                        emit(lastWasNewline ? .nl : .newline, 0, s, pos, l)
                        lastWasNewline = true
                        atLineStart = true
                    }
                    continue
                }
                if c == 92 {
                    pos += 1
                    if !eatNewline() {
                        if pos >= n { throw fail("unexpected EOF after line continuation character") }
                        throw fail("unexpected character after line continuation character")
                    }
                    if pos >= n { throw fail("unexpected EOF while parsing") }
                    continued = true
                    continue
                }
                if c == 0 { throw fail("source code cannot contain null bytes") }
                lastWasNewline = false
                if PythonTokenizer.isIdentStart(c) {
                    while pos < n && PythonTokenizer.isIdentChar(buf[pos]) { pos += 1 }
                    let q = at(pos)
                    if (q == 34 || q == 39) && pos - s <= 2, let flags = stringPrefix(s, pos) {
                        try scanString(start: s, quotePos: pos, isF: flags.f, isRaw: flags.r)
                        emit(.string, flags.f ? 1 : (flags.b ? 2 : 0), s, pos, l)
                        continue
                    }
                    let kw = keyword(s, pos)
                    emit(.name, kw.rawValue, s, pos, l)
                    continue
                }
                if PythonTokenizer.isDigit(c) || (c == 46 && PythonTokenizer.isDigit(at(pos + 1))) {
                    try scanNumber()
                    emit(.number, 0, s, pos, l)
                    continue
                }
                if c == 34 || c == 39 {
                    try scanString(start: s, quotePos: pos, isF: false, isRaw: false)
                    emit(.string, 0, s, pos, l)
                    continue
                }
                try scanOperator(c, s, l)
            }
            // End of input.
            if depth > 0 { throw fail("unexpected EOF in multi-line statement: '\(Character(Unicode.Scalar(brackets.last!)))' was never closed") }
            if !lastWasNewline { emit(.newline, 0, pos, pos, line) }
            while indents.count > 1 { indents.removeLast(); emit(.dedent, 0, pos, pos, line) }
            emit(.endMarker, 0, pos, pos, line)
            return tokens
        }

        func keyword(_ s: Int, _ e: Int) -> PythonKeyword {
            let len = e - s
            if len < 1 || len > 8 { return .none }
            let first = buf[s]
            if first >= 128 { return .none }
            let str = String(decoding: UnsafeBufferPointer(rebasing: buf[s..<e]), as: UTF8.self)
            return PythonKeyword.table[str] ?? .none
        }

        /// Valid string prefixes: r, u, b, f, br, rb, fr, rf (any case). Returns flags or nil.
        func stringPrefix(_ s: Int, _ e: Int) -> (f: Bool, b: Bool, r: Bool)? {
            var r = false, u = false, b = false, f = false
            for i in s..<e {
                switch buf[i] | 0x20 {
                case 114: if r { return nil }; r = true
                case 117: if u { return nil }; u = true
                case 98: if b { return nil }; b = true
                case 102: if f { return nil }; f = true
                default: return nil
                }
            }
            if u && (r || b || f) { return nil }
            if b && f { return nil }
            return (f, b, r)
        }

        mutating func scanNumber() throws {
            let n = buf.count
            let s = pos
            let c = buf[pos]
            if c == 48, pos + 1 < n, [120, 88, 111, 79, 98, 66].contains(buf[pos + 1]) {
                pos += 2
                while pos < n && (PythonTokenizer.isIdentChar(buf[pos])) { pos += 1 }
                return
            }
            var sawDot = false, sawExp = false
            while pos < n {
                let d = buf[pos]
                if PythonTokenizer.isDigit(d) || d == 95 { pos += 1; continue }
                if d == 46 && !sawDot && !sawExp { sawDot = true; pos += 1; continue }
                if (d == 101 || d == 69) && !sawExp {
                    let nx = at(pos + 1)
                    if PythonTokenizer.isDigit(nx) { sawExp = true; pos += 1; continue }
                    if (nx == 43 || nx == 45) && PythonTokenizer.isDigit(at(pos + 2)) { sawExp = true; pos += 2; continue }
                    break
                }
                if d == 106 || d == 74 { pos += 1; break }
                break
            }
            // Leading zeros in a decimal integer ("0777") are a Python 3 syntax error.
            if buf[s] == 48 && !sawDot && !sawExp && pos - s > 1 {
                var allZero = true
                for i in s..<pos where buf[i] != 48 && buf[i] != 95 { allZero = false }
                if !allZero && buf[pos - 1] != 106 && buf[pos - 1] != 74 {
                    throw fail("leading zeros in decimal integer literals are not permitted")
                }
            }
            // A number directly followed by an identifier ("10L", "0777L") is invalid,
            // except before keywords CPython still accepts ("1if x else y").
            if pos < n && PythonTokenizer.isIdentStart(buf[pos]) {
                var e = pos
                while e < n && PythonTokenizer.isIdentChar(buf[e]) { e += 1 }
                let kw = keyword(pos, e)
                if ![.and, .or, .if, .else, .for, .in, .is, .not].contains(kw) {
                    throw fail("invalid decimal literal")
                }
            }
        }

        /// Scans a string literal whose opening quote is at `quotePos`; leaves `pos` after the closing quote.
        mutating func scanString(start: Int, quotePos: Int, isF: Bool, isRaw: Bool) throws {
            let q = buf[quotePos]
            let startLine = line
            let triple = at(quotePos + 1) == q && at(quotePos + 2) == q
            pos = quotePos + (triple ? 3 : 1)
            try scanStringBody(quote: q, triple: triple, isF: isF, isRaw: isRaw, startLine: startLine)
        }

        /// Skips an escape sequence whose backslash is at `pos` (CPython 3.12's f-string rules): in an
        /// f-string a backslash never escapes `{` or `}` (in `rf'\{{x}}'` the braces are still a doubled
        /// brace; in `f'\{x}'` a replacement field), and a non-raw f-string's `\N{NAME}` is one escape,
        /// not a field. Anywhere else the backslash takes the next character (a quote, or a newline).
        mutating func skipEscape(isF: Bool, isRaw: Bool) {
            let n = buf.count
            pos += 1
            guard pos < n else { return }
            let c = buf[pos]
            if isF && (c == 123 || c == 125) { return }
            if isF && !isRaw && c == 78 && at(pos + 1) == 123 {
                pos += 2
                while pos < n, buf[pos] != 125, buf[pos] != 10, buf[pos] != 13 { pos += 1 }
                if at(pos) == 125 { pos += 1 }
                return
            }
            if !eatNewline() { pos += 1 }
        }

        mutating func scanStringBody(quote q: UInt8, triple: Bool, isF: Bool, isRaw: Bool, startLine: Int32) throws {
            let n = buf.count
            while pos < n {
                let c = buf[pos]
                if c == 92 {
                    skipEscape(isF: isF, isRaw: isRaw)
                    continue
                }
                if c == q {
                    if !triple { pos += 1; return }
                    if at(pos + 1) == q && at(pos + 2) == q { pos += 3; return }
                    pos += 1; continue
                }
                if c == 10 || c == 13 {
                    if !triple { throw fail("unterminated string literal", line: startLine) }
                    _ = eatNewline(); continue
                }
                if isF && c == 123 {
                    if at(pos + 1) == 123 { pos += 2; continue }
                    pos += 1
                    try scanReplacementField(startLine: startLine, isRaw: isRaw)
                    continue
                }
                pos += 1
            }
            throw fail(triple ? "unterminated triple-quoted string literal" : "unterminated string literal",
                       line: startLine)
        }

        /// Inside an f-string after `{`: scans the expression (with nested strings and brackets),
        /// an optional `!conv` and `:format spec` (which may nest `{...}`), through the closing `}`.
        mutating func scanReplacementField(startLine: Int32, isRaw: Bool) throws {
            let n = buf.count
            var depth = 0
            let exprStart = pos
            while pos < n {
                let c = buf[pos]
                switch c {
                case 34, 39:
                    // Nested string literal; look back for a prefix to know whether it is a (raw) f-string.
                    var j = pos - 1
                    while j >= exprStart && j >= pos - 2, [114, 82, 98, 66, 102, 70, 117, 85].contains(buf[j]) { j -= 1 }
                    var flags = (f: false, b: false, r: false)
                    if !(j >= exprStart && PythonTokenizer.isIdentChar(buf[j])), j + 1 < pos,
                       let prefix = stringPrefix(j + 1, pos) { flags = prefix }
                    let q = c
                    let triple = at(pos + 1) == q && at(pos + 2) == q
                    pos += triple ? 3 : 1
                    try scanStringBody(quote: q, triple: triple, isF: flags.f, isRaw: flags.r, startLine: line)
                case 40, 91, 123: depth += 1; pos += 1
                case 41, 93: depth -= 1; pos += 1
                case 125:
                    pos += 1
                    if depth == 0 { return }
                    depth -= 1
                case 58 where depth == 0:
                    // Format spec: literal text with nested replacement fields, ends at '}'.
                    pos += 1
                    while pos < n {
                        let d = buf[pos]
                        if d == 123 { pos += 1; try scanReplacementField(startLine: startLine, isRaw: isRaw); continue }
                        if d == 125 { pos += 1; return }
                        if d == 10 || d == 13 { _ = eatNewline(); continue }
                        if d == 92 { skipEscape(isF: true, isRaw: isRaw); continue }
                        pos += 1
                    }
                case 33 where depth == 0 && at(pos + 1) != 61:
                    pos += 1 // conversion "!r"; the following name and ':'/'}' are handled by the loop
                case 10, 13: _ = eatNewline()
                case 92: pos += 1; if !eatNewline() { pos += 1 }
                default: pos += 1
                }
            }
            throw fail("unterminated f-string", line: startLine)
        }

        mutating func scanOperator(_ c: UInt8, _ s: Int, _ l: Int32) throws {
            let c1 = at(pos + 1), c2 = at(pos + 2)
            switch c {
            case 40, 91, 123:
                depth += 1; brackets.append(c); pos += 1
                emit(.op, c, s, pos, l); return
            case 41, 93, 125:
                if depth == 0 { throw fail("unmatched '\(Character(Unicode.Scalar(c)))'") }
                let open = brackets.removeLast()
                if (c == 41 && open != 40) || (c == 93 && open != 91) || (c == 125 && open != 123) {
                    throw fail("closing parenthesis '\(Character(Unicode.Scalar(c)))' does not match opening parenthesis '\(Character(Unicode.Scalar(open)))'")
                }
                depth -= 1; pos += 1
                emit(.op, c, s, pos, l); return
            default: break
            }
            // Three-byte operators.
            if (c == 42 && c1 == 42 && c2 == 61) || (c == 47 && c1 == 47 && c2 == 61) || (c == 62 && c1 == 62 && c2 == 61)
                || (c == 60 && c1 == 60 && c2 == 61) || (c == 46 && c1 == 46 && c2 == 46) {
                pos += 3
                emit(.op, c == 46 ? 46 : PythonOp.other.rawValue, s, pos, l); return
            }
            // Two-byte operators.
            if c == 45 && c1 == 62 { pos += 2; emit(.op, PythonOp.arrow.rawValue, s, pos, l); return }
            if c == 58 && c1 == 61 { pos += 2; emit(.op, PythonOp.walrus.rawValue, s, pos, l); return }
            if c == 42 && c1 == 42 { pos += 2; emit(.op, PythonOp.doubleStar.rawValue, s, pos, l); return }
            if c == 60 && c1 == 62 { throw fail("invalid syntax: '<>'") }
            if (c1 == 61 && [61, 33, 60, 62, 43, 45, 42, 47, 37, 38, 124, 94, 64].contains(c))
                || (c == 47 && c1 == 47) || (c == 60 && c1 == 60) || (c == 62 && c1 == 62) {
                pos += 2; emit(.op, PythonOp.other.rawValue, s, pos, l); return
            }
            switch c {
            case 43, 45, 42, 47, 37, 64, 38, 124, 94, 126, 60, 62, 46, 44, 58, 59, 61:
                pos += 1; emit(.op, c, s, pos, l)
            case 33:
                throw fail("invalid syntax: '!'")
            default:
                throw fail("invalid character '\(Character(Unicode.Scalar(c)))' (U+\(String(c, radix: 16, uppercase: true)))")
            }
        }
    }
}
