// Structural parser over Python tokens: logical lines grouped into a statement tree
// (compound statements with their header colon and body, simple statements split on ';').
// It parses exactly as much grammar as extraction and the static properties need.

/// One statement of the tree. Token indices point into the tokenizer's output.
struct PythonStatement: Sendable {
    enum Kind: UInt8, Sendable {
        case simple, ifStmt, elifClause, elseClause, forStmt, whileStmt, tryStmt, exceptClause, finallyClause,
             withStmt, def, classDef, match, caseClause
    }
    var kind: Kind
    /// First token of the statement proper (`def`/`async`/`class`/`if`/...; after any decorators).
    var first: Int
    /// First decorator `@` token, or `first` when there are none.
    var decoratorFirst: Int
    /// Compound: the header's `:` token. Simple: one past the last significant token.
    var headerEnd: Int
    /// Last significant token of the whole statement including its body.
    var last: Int
    /// Child statements (the block, or the simple statements after the colon on the same line).
    var body: [Int] = []
    /// For `else`/`elif`/`except`/`finally`: the kind of the statement the clause belongs to.
    var owner: Kind = .simple
    /// For `for`/`with`: written `async for`/`async with`; for `def`: `async def`.
    var isAsync = false
}

/// A `def` found by the parser, with its scope information.
struct ParsedFunction: Sendable {
    var statement: Int
    var qualifiedName: String
    var name: String
    var isMethod: Bool
}

/// Parses a token stream into statements and collects every function definition.
struct PythonParser {
    let t: [PythonToken]
    let src: UnsafeBufferPointer<UInt8>
    var i = 0
    var statements: [PythonStatement] = []
    var functions: [ParsedFunction] = []
    /// Qualified-name prefix of the current scope ("" at module level, "A." in class A, "f.<locals>." in f).
    var prefix = ""
    var inClass = false

    init(tokens: [PythonToken], source: UnsafeBufferPointer<UInt8>) {
        t = tokens
        src = source
    }

    func fail(_ message: String, _ k: Int) -> PythonSyntaxError {
        PythonSyntaxError(message: message, line: Int(t[min(k, t.count - 1)].line))
    }

    func text(_ k: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: src[Int(t[k].start)..<Int(t[k].end)]), as: UTF8.self)
    }

    @inline(__always) func isOp(_ k: Int, _ code: UInt8) -> Bool { t[k].kind == .op && t[k].code == code }
    @inline(__always) func kw(_ k: Int) -> PythonKeyword {
        t[k].kind == .name ? PythonKeyword(rawValue: t[k].code) ?? .none : .none
    }

    /// Parses the whole module; returns the top-level statement indices.
    mutating func parseModule() throws -> [Int] {
        try checkJuxtaposition()
        var out: [Int] = []
        try parseBlock(into: &out, inMatch: false, topLevel: true)
        return out
    }

    /// Python 2 code tokenizes fine but does not parse: reject two adjacent atoms
    /// (`print "x"`, `exec code`), which the Python 3 grammar never allows, except soft keywords
    /// opening a statement (`match x:`, `case y:`, `type X = ...`).
    func checkJuxtaposition() throws {
        var prev = -1
        var prevWasFirst = false
        var atStart = true
        for k in 0..<t.count {
            let tok = t[k]
            switch tok.kind {
            case .newline: atStart = true; prev = -1; continue
            case .nl, .comment, .indent, .dedent, .endMarker: continue
            default: break
            }
            if prev >= 0 {
                let p = t[prev]
                let pAtom = (p.kind == .name && !kw(prev).isHard) || p.kind == .number || p.kind == .string
                let cAtom = (tok.kind == .name && !kw(k).isHard) || tok.kind == .number
                    || (tok.kind == .string && p.kind != .string)
                if pAtom && cAtom {
                    let soft = prevWasFirst && p.kind == .name && [.match, .case, .type].contains(kw(prev))
                    if !soft { throw fail("invalid syntax", k) }
                }
            }
            if tok.kind == .op && tok.code == 59 { atStart = true; prev = -1; continue }
            prevWasFirst = atStart
            atStart = false
            prev = k
        }
    }

    @inline(__always) func skipBlankTokens(_ k: inout Int) {
        while k < t.count, t[k].kind == .nl || t[k].kind == .comment || t[k].kind == .newline { k += 1 }
    }

    mutating func parseBlock(into out: inout [Int], inMatch: Bool, topLevel: Bool) throws {
        var lastHead: PythonStatement.Kind = .simple
        while true {
            skipBlankTokens(&i)
            guard i < t.count else { return }
            switch t[i].kind {
            case .dedent:
                if topLevel { throw fail("unexpected unindent", i) }
                i += 1; return
            case .endMarker:
                if !topLevel { return }
                return
            case .indent:
                throw fail("unexpected indent", i)
            default: break
            }
            try parseStatement(into: &out, inMatch: inMatch, lastHead: &lastHead)
        }
    }

    /// Kind of the statement starting at token `k`.
    func classify(_ k: Int, inMatch: Bool) -> PythonStatement.Kind {
        switch kw(k) {
        case .if: return .ifStmt
        case .elif: return .elifClause
        case .else: return .elseClause
        case .for: return .forStmt
        case .while: return .whileStmt
        case .try: return .tryStmt
        case .except: return .exceptClause
        case .finally: return .finallyClause
        case .with: return .withStmt
        case .def: return .def
        case .class: return .classDef
        case .async:
            switch kw(k + 1) {
            case .def: return .def
            case .for: return .forStmt
            case .with: return .withStmt
            default: return .simple
            }
        case .match: return isMatchStatement(k) ? .match : .simple
        case .case: return inMatch && lineEndsWithColon(k) ? .caseClause : .simple
        default: return .simple
        }
    }

    /// Index of the depth-0 header colon of the logical line starting at `k` (skipping `lambda ...:`), or nil.
    func headerColon(_ k: Int) -> Int? {
        var d = 0, lambdas = 0, j = k
        while j < t.count {
            let tok = t[j]
            switch tok.kind {
            case .newline, .endMarker: return nil
            case .op:
                switch tok.code {
                case 40, 91, 123: d += 1
                case 41, 93, 125: d -= 1
                case 58 where d == 0:
                    if lambdas > 0 { lambdas -= 1 } else { return j }
                default: break
                }
            case .name where d == 0 && tok.code == PythonKeyword.lambda.rawValue: lambdas += 1
            default: break
            }
            j += 1
        }
        return nil
    }

    /// The colon is the last significant token on the line.
    func lineEndsWithColon(_ k: Int) -> Bool {
        guard let c = headerColon(k) else { return false }
        var j = c + 1
        while j < t.count, t[j].kind == .comment { j += 1 }
        return j < t.count && t[j].kind == .newline
    }

    /// `match` is a keyword when the line is `match <subject>:` followed by an indented block of `case` clauses.
    func isMatchStatement(_ k: Int) -> Bool {
        let next = t[k + 1]
        if next.kind == .op && [61, 46, 58, 44, 59, 41, 93, 125].contains(next.code) { return false }
        if next.kind == .op && next.code == PythonOp.other.rawValue { return false }
        if next.kind == .newline { return false }
        guard let c = headerColon(k) else { return false }
        var j = c + 1
        while j < t.count, t[j].kind == .comment { j += 1 }
        guard j < t.count, t[j].kind == .newline else { return false }
        j += 1
        skipBlankTokens(&j)
        guard j < t.count, t[j].kind == .indent else { return false }
        j += 1
        skipBlankTokens(&j)
        return j < t.count && kw(j) == .case
    }

    /// Index one past the last significant token of a simple statement starting at `k`
    /// (stops at ';' or NEWLINE), and the position after it.
    func simpleEnd(_ k: Int) -> Int {
        var j = k
        while j < t.count {
            let tok = t[j]
            if tok.kind == .newline || tok.kind == .endMarker { break }
            if tok.kind == .op && tok.code == 59 { break }
            j += 1
        }
        while j > k, t[j - 1].kind == .comment || t[j - 1].kind == .nl { j -= 1 }
        return j
    }

    /// Parses simple statements separated by ';' through the line's NEWLINE.
    mutating func parseSimpleLine(into out: inout [Int]) throws {
        while true {
            let s = i
            let e = simpleEnd(s)
            if e == s {
                if t[s].kind == .op && t[s].code == 59 { throw fail("invalid syntax", s) }
            } else {
                try validateSimple(s, e)
                statements.append(PythonStatement(kind: .simple, first: s, decoratorFirst: s, headerEnd: e, last: e - 1))
                out.append(statements.count - 1)
            }
            i = e
            if i < t.count, t[i].kind == .op, t[i].code == 59 {
                i += 1
                if t[i].kind == .newline || t[i].kind == .comment || t[i].kind == .endMarker { continue }
                continue
            }
            while i < t.count, t[i].kind == .comment { i += 1 }
            if i < t.count, t[i].kind == .newline { i += 1 }
            return
        }
    }

    /// Python 2 statement forms that tokenize but do not parse in Python 3.
    func validateSimple(_ s: Int, _ e: Int) throws {
        let k = kw(s)
        if k == .raise || k == .except {
            var d = 0
            for j in s..<e where t[j].kind == .op {
                switch t[j].code {
                case 40, 91, 123: d += 1
                case 41, 93, 125: d -= 1
                case 44 where d == 0: throw fail("invalid syntax (Python 2 '\(k == .raise ? "raise E, V" : "except E, e")')", j)
                default: break
                }
            }
        }
        // A compound-statement keyword cannot open a simple statement.
        if k == .except { return }
        switch k {
        case .if, .elif, .else, .for, .while, .try, .except, .finally, .with, .def, .class:
            throw fail("expected ':'", s)
        default: break
        }
        if t[s].kind == .op && t[s].code == 64 { throw fail("invalid syntax", s) }
    }

    mutating func parseStatement(into out: inout [Int], inMatch: Bool, lastHead: inout PythonStatement.Kind) throws {
        let decoratorFirst = i
        var hasDecorators = false
        while t[i].kind == .op && t[i].code == 64 {
            hasDecorators = true
            while t[i].kind != .newline && t[i].kind != .endMarker { i += 1 }
            if t[i].kind == .endMarker { throw fail("invalid syntax", i) }
            i += 1
            skipBlankTokens(&i)
        }
        let first = i
        let kind = classify(first, inMatch: inMatch)
        if hasDecorators && kind != .def && kind != .classDef {
            throw fail("invalid syntax: a decorator must precede 'def' or 'class'", first)
        }
        if kind == .simple {
            try parseSimpleLine(into: &out)
            lastHead = .simple
            return
        }
        guard let colon = headerColon(first) else { throw fail("expected ':'", first) }
        if kind == .exceptClause {
            try validateSimple(first, colon)
        }
        var st = PythonStatement(kind: kind, first: first, decoratorFirst: decoratorFirst, headerEnd: colon, last: colon)
        st.isAsync = kw(first) == .async
        switch kind {
        case .elifClause, .elseClause, .exceptClause, .finallyClause:
            st.owner = lastHead
            if lastHead == .simple || lastHead == .def || lastHead == .classDef || lastHead == .withStmt
                || lastHead == .match || lastHead == .caseClause {
                throw fail("invalid syntax", first)
            }
        default: break
        }
        let index = statements.count
        statements.append(st)

        // Scope bookkeeping for definitions.
        let savedPrefix = prefix, savedInClass = inClass
        if kind == .def || kind == .classDef {
            let nameTok = kind == .def ? (st.isAsync ? first + 2 : first + 1) : first + 1
            guard t[nameTok].kind == .name, !kw(nameTok).isHard else { throw fail("invalid syntax", nameTok) }
            if kind == .def && !isOp(nameTok + 1, 40) { throw fail("expected '('", nameTok + 1) }
            if kind == .classDef && !isOp(nameTok + 1, 40) && nameTok + 1 != colon { throw fail("invalid syntax", nameTok + 1) }
            let name = text(nameTok)
            let qual = prefix + name
            if kind == .def {
                functions.append(ParsedFunction(statement: index, qualifiedName: qual, name: name, isMethod: inClass))
                prefix = qual + ".<locals>."
                inClass = false
            } else {
                prefix = qual + "."
                inClass = true
            }
        }

        i = colon + 1
        while t[i].kind == .comment { i += 1 }
        var body: [Int] = []
        if t[i].kind == .newline {
            i += 1
            skipBlankTokens(&i)
            guard t[i].kind == .indent else { throw fail("expected an indented block", i) }
            i += 1
            try parseBlock(into: &body, inMatch: kind == .match, topLevel: false)
        } else {
            if t[i].kind == .endMarker { throw fail("invalid syntax", i) }
            if kind == .match { throw fail("invalid syntax", i) }
            try parseSimpleLine(into: &body)
        }
        prefix = savedPrefix
        inClass = savedInClass
        guard let lastChild = body.last else { throw fail("expected an indented block", i) }
        statements[index].body = body
        statements[index].last = statements[lastChild].last
        out.append(index)

        switch kind {
        case .ifStmt, .forStmt, .whileStmt, .tryStmt: lastHead = kind
        case .elifClause: lastHead = .ifStmt
        case .exceptClause: lastHead = .tryStmt
        case .elseClause:
            // try/except/else may still be followed by finally.
            lastHead = st.owner == .tryStmt ? .tryStmt : .simple
        default: lastHead = .simple
        }
    }
}
