// Static properties of a function computed over the parser's statements and tokens.
//
// Rules (the reference script scripts/reference/corpus_ast.py implements the same rules over `ast`):
//
// LOC: the number of lines from the first decorator line to the last body line on which at least
//   one token other than a comment, NEWLINE/NL or INDENT/DEDENT lies (a token spanning several lines,
//   such as a triple-quoted string, covers all of them), except the docstring's string token(s),
//   whose lines do not count. Blank lines and comment-only lines do not count. Nested functions' and
//   classes' lines count (LOC is about the whole function text).
//
// Cyclomatic complexity (radon's ComplexityVisitor rules, over the body only: not the decorators,
//   default values or annotations of the function itself; nested `def`/`async def`/`class` statements
//   are skipped entirely, as radon reports them separately; lambdas are not skipped):
//   1
//   + 1 per `if` statement and per `elif` clause, + 1 per conditional expression (`a if c else b`)
//   + 1 per `for`/`async for`/`while` statement, + 1 more when it has an `else` clause
//   + 1 per `except` clause, + 1 when a `try` has an `else` clause
//   + 1 per `with`/`async with` statement (one per statement, whatever the number of items)
//   + 1 per `assert` statement
//   + 1 per comprehension `for` (list/set/dict comprehensions and generator expressions), + 1 per
//     comprehension `if`
//   + (n - 1) per boolean operation with n operands, which is one per `and`/`or` operator
//   + the number of `case` clauses of a `match`, minus 1 if any case's pattern is a bare name
//     (a wildcard `_` or a capture pattern), as radon does.
//
// n_branches: `if` statements + `elif` clauses + `case` clauses (body only, nested defs/classes excluded).
// n_loops: `for`/`async for`/`while` statements. n_returns: `return` statements.
// n_api_calls: call expressions (`f(x)`, `a.b(c)`, `g()()` counts 2; class patterns in `case` do not).
// n_args: every parameter: positional-only, positional, `*args`, keyword-only, `**kwargs` (a bare `*` or `/` is not one).

import Core
struct PythonMetrics {
    let p: PythonParser

    init(parser: PythonParser) { p = parser }

    /// The function body's first statement when it is a docstring (a plain string literal expression,
    /// implicit concatenation allowed; f-strings and bytes are not docstrings).
    func docstringStatement(_ def: Int) -> Int? {
        guard let first = p.statements[def].body.first else { return nil }
        let st = p.statements[first]
        guard st.kind == .simple else { return nil }
        var a = st.first, b = st.headerEnd
        while a < b - 1, p.isOp(a, 40), p.isOp(b - 1, 41) { a += 1; b -= 1 }
        guard a < b else { return nil }
        for k in a..<b {
            let t = p.t[k]
            if t.kind != .string || t.code != 0 { return nil }
        }
        return first
    }

    func properties(of f: ParsedFunction, docstring: Int?) -> FunctionProperties {
        let st = p.statements[f.statement]
        var c = Counts()
        for s in st.body { walk(s, &c) }
        var complexity = 1 + c.ifs + c.ternaries + c.loops + c.loopElses + c.excepts + c.tryElses + c.withs
        complexity += c.asserts + c.compFors + c.compIfs + c.boolOps + c.matchCases
        return FunctionProperties(
            loc: loc(st, docstring: docstring),
            cyclomaticComplexity: complexity,
            branches: c.ifs + c.cases,
            loops: c.loops,
            returns: c.returns,
            arguments: argumentCount(st),
            apiCalls: c.calls,
            returnAnnotation: returnCategory(st),
            hasDocstring: docstring != nil,
            hasDecorators: st.decoratorFirst != st.first,
            isMethod: f.isMethod,
            isAsync: st.isAsync)
    }

    struct Counts {
        var ifs = 0, ternaries = 0, loops = 0, loopElses = 0, excepts = 0, tryElses = 0, withs = 0
        var asserts = 0, compFors = 0, compIfs = 0, boolOps = 0, matchCases = 0, cases = 0
        var returns = 0, calls = 0
    }

    func walk(_ s: Int, _ c: inout Counts) {
        let st = p.statements[s]
        switch st.kind {
        case .def, .classDef:
            return
        case .simple:
            switch p.kw(st.first) {
            case .return: c.returns += 1
            case .assert: c.asserts += 1
            default: break
            }
            scan(st.first, st.headerEnd, &c, prevCallable: false, skipFirst: p.kw(st.first) != .none && p.kw(st.first).isHard)
        case .ifStmt, .elifClause:
            c.ifs += 1
            scan(st.first + 1, st.headerEnd, &c, prevCallable: false)
        case .elseClause:
            if st.owner == .forStmt || st.owner == .whileStmt { c.loopElses += 1 }
            if st.owner == .tryStmt { c.tryElses += 1 }
        case .forStmt, .whileStmt:
            c.loops += 1
            scan(st.first + (st.isAsync ? 2 : 1), st.headerEnd, &c, prevCallable: false)
        case .exceptClause:
            c.excepts += 1
            scan(st.first + 1, st.headerEnd, &c, prevCallable: false)
        case .tryStmt, .finallyClause:
            break
        case .withStmt:
            c.withs += 1
            scan(st.first + (st.isAsync ? 2 : 1), st.headerEnd, &c, prevCallable: false)
        case .match:
            scan(st.first + 1, st.headerEnd, &c, prevCallable: false)
            var n = 0, irrefutable = false
            for cs in st.body where p.statements[cs].kind == .caseClause {
                n += 1
                if isBareNamePattern(p.statements[cs]) { irrefutable = true }
            }
            c.matchCases += max(0, n - (irrefutable ? 1 : 0))
        case .caseClause:
            c.cases += 1
            if let g = guardIf(st) { scan(g + 1, st.headerEnd, &c, prevCallable: false) }
        }
        for b in st.body { walk(b, &c) }
    }

    /// The depth-0 `if` of a case header (its guard), if any.
    func guardIf(_ st: PythonStatement) -> Int? {
        var d = 0
        for k in (st.first + 1)..<st.headerEnd {
            let t = p.t[k]
            if t.kind == .op {
                switch t.code {
                case 40, 91, 123: d += 1
                case 41, 93, 125: d -= 1
                default: break
                }
            } else if d == 0 && p.kw(k) == .if { return k }
        }
        return nil
    }

    func isBareNamePattern(_ st: PythonStatement) -> Bool {
        var a = st.first + 1
        var b = guardIf(st) ?? st.headerEnd
        while a < b - 1, p.isOp(a, 40), p.isOp(b - 1, 41) { a += 1; b -= 1 }
        guard b - a == 1, p.t[a].kind == .name else { return false }
        let k = p.kw(a)
        return k == .none || k == .underscore || k == .match || k == .case || k == .type
    }

    /// Expression-level counts over tokens `[a, b)` of one logical line.
    func scan(_ a: Int, _ b: Int, _ c: inout Counts, prevCallable: Bool, skipFirst: Bool = false) {
        var seenFor: [Bool] = [false]
        var prevOK = prevCallable
        var k = skipFirst ? a + 1 : a
        while k < b {
            let t = p.t[k]
            switch t.kind {
            case .op:
                switch t.code {
                case 40, 91, 123:
                    if t.code == 40 && prevOK { c.calls += 1 }
                    seenFor.append(false)
                    prevOK = false
                case 41, 93, 125:
                    if seenFor.count > 1 { seenFor.removeLast() }
                    prevOK = true
                default:
                    prevOK = false
                }
            case .name:
                let kw = p.kw(k)
                switch kw {
                case .and, .or: c.boolOps += 1
                case .if:
                    if seenFor[seenFor.count - 1] { c.compIfs += 1 } else { c.ternaries += 1 }
                case .for:
                    c.compFors += 1
                    seenFor[seenFor.count - 1] = true
                default: break
                }
                prevOK = !kw.isHard || kw == .None || kw == .True || kw == .False
            case .string:
                if t.code == 1 { scanFString(Int(t.start), Int(t.end), &c) }
                prevOK = true
            case .number:
                prevOK = true
            default:
                break
            }
            k += 1
        }
    }

    /// Counts inside an f-string's replacement fields (the AST holds them as expressions).
    func scanFString(_ start: Int, _ end: Int, _ c: inout Counts) {
        for expr in PythonMetrics.fStringExpressions(p.src, start, end) {
            var text: [UInt8] = [40]
            text.append(contentsOf: expr)
            text.append(contentsOf: [41, 10])
            guard let toks = try? PythonTokenizer.tokenize(text) else { continue }
            text.withUnsafeBufferPointer { buf in
                let sub = PythonParser(tokens: toks, source: buf)
                let m = PythonMetrics(parser: sub)
                let n = toks.count
                m.scan(1, max(1, n - 3), &c, prevCallable: false)
            }
        }
    }

    /// The expression texts of an f-string token's replacement fields, nested ones (in format specs
    /// and in nested f-strings) included; a trailing self-documenting `=` is dropped.
    static func fStringExpressions(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var k = start
        // Skip the prefix and the opening quote(s).
        while k < end, b[k] != 34, b[k] != 39 { k += 1 }
        guard k < end else { return out }
        let q = b[k]
        let triple = k + 2 < end && b[k + 1] == q && b[k + 2] == q
        k += triple ? 3 : 1
        let stop = end - (triple ? 3 : 1)
        func field(_ k: inout Int) {
            // k is just after '{'
            let exprStart = k
            var depth = 0
            var exprEnd = -1
            while k < stop {
                let ch = b[k]
                if ch == 34 || ch == 39 {
                    let triple2 = k + 2 < stop && b[k + 1] == ch && b[k + 2] == ch
                    k += triple2 ? 3 : 1
                    while k < stop {
                        if b[k] == 92 { k += 2; continue }
                        if b[k] == ch && (!triple2 || (k + 2 < stop + 3 && b[k + 1] == ch && b[k + 2] == ch)) {
                            k += triple2 ? 3 : 1; break
                        }
                        k += 1
                    }
                    continue
                }
                if ch == 40 || ch == 91 || ch == 123 { depth += 1; k += 1; continue }
                if (ch == 41 || ch == 93) { depth -= 1; k += 1; continue }
                if ch == 125 {
                    if depth == 0 { if exprEnd < 0 { exprEnd = k }; k += 1; break }
                    depth -= 1; k += 1; continue
                }
                if depth == 0 && ch == 33 && k + 1 < stop && b[k + 1] != 61 {
                    if exprEnd < 0 { exprEnd = k }
                    k += 1; continue
                }
                if depth == 0 && ch == 58 && exprEnd < 0 {
                    exprEnd = k
                    k += 1
                    // format spec: nested fields until the closing '}'
                    while k < stop {
                        if b[k] == 123 { k += 1; field(&k); continue }
                        if b[k] == 125 { k += 1; break }
                        k += 1
                    }
                    break
                }
                k += 1
            }
            if exprEnd < 0 { exprEnd = k }
            var e = exprEnd
            while e > exprStart, b[e - 1] == 32 || b[e - 1] == 9 || b[e - 1] == 10 || b[e - 1] == 13 { e -= 1 }
            if e > exprStart, b[e - 1] == 61, !(e - 2 >= exprStart && [61, 33, 60, 62].contains(b[e - 2])) { e -= 1 }
            if e > exprStart { out.append(Array(UnsafeBufferPointer(rebasing: b[exprStart..<e]))) }
        }
        while k < stop {
            let ch = b[k]
            if ch == 92 { k += 2; continue }
            if ch == 123 {
                if k + 1 < stop && b[k + 1] == 123 { k += 2; continue }
                k += 1
                field(&k)
                continue
            }
            k += 1
        }
        return out
    }

    func loc(_ st: PythonStatement, docstring: Int?) -> Int {
        let t = p.t
        let firstLine = Int(t[st.decoratorFirst].line)
        let lastLine = Int(t[st.last].endLine)
        var covered = [Bool](repeating: false, count: lastLine - firstLine + 1)
        var docRange = -1 ..< -1
        if let d = docstring { docRange = p.statements[d].first ..< p.statements[d].headerEnd }
        var k = st.decoratorFirst
        while k <= st.last {
            let tok = t[k]
            switch tok.kind {
            case .comment, .nl, .newline, .indent, .dedent, .endMarker: break
            default:
                if !docRange.contains(k) {
                    for l in Int(tok.line)...Int(tok.endLine) { covered[l - firstLine] = true }
                }
            }
            k += 1
        }
        return covered.reduce(0) { $0 + ($1 ? 1 : 0) }
    }

    /// Token index of the `(` opening the parameter list.
    func paramsOpen(_ st: PythonStatement) -> Int { st.first + (st.isAsync ? 3 : 2) }

    func argumentCount(_ st: PythonStatement) -> Int {
        let open = paramsOpen(st)
        guard p.isOp(open, 40) else { return 0 }
        var d = 0, lambdas = 0, count = 0
        var itemStart = open + 1
        var k = open
        func closeItem(_ end: Int) {
            var sig: [Int] = []
            for j in itemStart..<end where p.t[j].kind != .nl && p.t[j].kind != .comment { sig.append(j) }
            if sig.isEmpty { return }
            if sig.count == 1, p.t[sig[0]].kind == .op, p.t[sig[0]].code == 42 || p.t[sig[0]].code == 47 { return }
            count += 1
        }
        while k < st.headerEnd {
            let t = p.t[k]
            if t.kind == .op {
                switch t.code {
                case 40, 91, 123: d += 1
                case 41, 93, 125:
                    d -= 1
                    if d == 0 { closeItem(k); return count }
                case 44 where d == 1 && lambdas == 0:
                    closeItem(k); itemStart = k + 1
                case 58 where d == 1 && lambdas > 0:
                    lambdas -= 1
                default: break
                }
            } else if d == 1 && p.kw(k) == .lambda {
                lambdas += 1
            }
            k += 1
        }
        return count
    }

    static let scalars: Set<String> = ["None", "int", "float", "complex", "str", "bytes", "bool"]
    static let containers: Set<String> = [
        "list", "dict", "set", "frozenset", "tuple", "List", "Dict", "Set", "FrozenSet", "Tuple",
        "Sequence", "MutableSequence", "Mapping", "MutableMapping", "AbstractSet", "MutableSet",
        "Iterable", "Iterator", "Collection", "Generator", "AsyncIterable", "AsyncIterator", "AsyncGenerator",
        "Deque", "deque", "DefaultDict", "defaultdict", "OrderedDict", "Counter", "ChainMap",
    ]

    /// Return annotation category from the tokens between `->` and the header colon: a (dotted) name
    /// classified by its last component, or a subscripted (dotted) name classified as container when
    /// the subscripted name is one; anything else is `other`.
    func returnCategory(_ st: PythonStatement) -> ReturnAnnotationCategory {
        let open = paramsOpen(st)
        var d = 0, k = open, arrow = -1
        while k < st.headerEnd {
            let t = p.t[k]
            if t.kind == .op {
                if t.code == 40 || t.code == 91 || t.code == 123 { d += 1 }
                else if t.code == 41 || t.code == 93 || t.code == 125 { d -= 1 }
                else if d == 0 && t.code == PythonOp.arrow.rawValue { arrow = k; break }
            }
            k += 1
        }
        guard arrow >= 0 else { return .none }
        var a = arrow + 1, b = st.headerEnd
        while a < b - 1, p.isOp(a, 40), p.isOp(b - 1, 41) { a += 1; b -= 1 }
        // Dotted name: NAME (. NAME)*
        var j = a
        var lastName = -1
        while j < b, p.t[j].kind == .name {
            lastName = j
            j += 1
            if j < b, p.isOp(j, 46) { j += 1 } else { break }
        }
        guard lastName >= 0 else { return .other }
        let name = p.text(lastName)
        if j == b { // bare (dotted) name
            if PythonMetrics.scalars.contains(name) { return .builtinScalar }
            if PythonMetrics.containers.contains(name) { return .container }
            return .other
        }
        if p.isOp(j, 91), p.isOp(b - 1, 93) {
            // The subscript must close at the end: check bracket balance.
            var dd = 0
            for m in j..<b where p.t[m].kind == .op {
                if [40, 91, 123].contains(p.t[m].code) { dd += 1 }
                if [41, 93, 125].contains(p.t[m].code) { dd -= 1; if dd == 0 && m != b - 1 { return .other } }
            }
            return PythonMetrics.containers.contains(name) ? .container : .other
        }
        return .other
    }
}
