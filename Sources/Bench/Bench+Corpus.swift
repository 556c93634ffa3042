import Corpus
import Foundation

/// Wall-clock seconds of one run of `body`.
private func corpusSeconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

/// Runs a command; returns stdout as a string (throws on failure).
private func corpusRun(_ args: [String], cwd: URL? = nil, stdin: Data? = nil) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("bench-corpus-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: out) }
    let handle = try FileHandle(forWritingTo: out)
    p.standardOutput = handle
    p.standardError = FileHandle.nullDevice
    var input: FileHandle? = nil
    if let stdin {
        let inFile = out.appendingPathExtension("in")
        try stdin.write(to: inFile)
        input = try FileHandle(forReadingFrom: inFile)
        p.standardInput = input
    }
    try p.run()
    p.waitUntilExit()
    try handle.close()
    try input?.close()
    if stdin != nil { try? FileManager.default.removeItem(at: out.appendingPathExtension("in")) }
    guard p.terminationStatus == 0 else { throw CorpusError.io(path: args.joined(separator: " "), reason: "exit \(p.terminationStatus)") }
    return try String(contentsOf: out, encoding: .utf8)
}

/// A deterministic synthetic repository: `commits` commits by 7 authors editing, inserting, deleting
/// and moving functions in 5 Python files (40 functions each at the start), with a merged side branch
/// every 50 commits, built with `git fast-import`.
func synthesiseCorpusRepository(at root: URL, commits: Int) throws {
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    _ = try corpusRun(["git", "-C", root.path, "init", "-q", "-b", "main"])
    var state: UInt64 = 0x9E3779B97F4A7C15
    func next(_ n: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(n))
    }
    struct Fn { var name: String; var body: [String] }
    var files: [[Fn]] = (0..<5).map { f in (0..<40).map { i in Fn(name: "f\(f)_\(i)", body: ["y = x + \(i)", "return y"]) } }
    var serial = 200
    let authors = ["Ada", "Brian", "Chen", "Dana", "Eve", "Farid", "Grace"]
    func render(_ fns: [Fn]) -> String {
        var s = "import os\n\n\n"
        for fn in fns {
            s += "def \(fn.name)(x):\n    \"\"\"\(fn.name) docs.\"\"\"\n"
            for l in fn.body { s += "    " + l + "\n" }
            s += "\n\n"
        }
        return s
    }
    var stream = Data()
    func append(_ s: String) { stream.append(Data(s.utf8)) }
    func edit(_ f: Int) {
        for _ in 0..<(1 + next(3)) {
            let i = next(files[f].count)
            switch next(10) {
            case 0..<5: files[f][i].body[0] = "y = x + \(next(1000))"
            case 5, 6: files[f][i].body.insert("x = x * \(next(9) + 1)", at: 0)
            case 7: if files[f][i].body.count > 2 { files[f][i].body.removeFirst() }
            case 8:
                let fn = files[f].remove(at: i)
                files[f].insert(fn, at: next(files[f].count + 1))
            default:
                serial += 1
                files[f].insert(Fn(name: "g\(serial)", body: ["return x - \(serial)"]), at: next(files[f].count + 1))
            }
        }
    }
    // Every 50 commits, a side branch: commits 40..45 of each 50 alternate between a side branch
    // (editing mod0.py) and main (editing the others); commit 46 merges the side branch.
    var lastMain = 0, lastSide = 0
    for c in 0..<commits {
        let phase = c % 50
        let inBranch = c > 0 && phase >= 40 && phase <= 45
        let onSide = inBranch && phase % 2 == 1
        let isMerge = c > 0 && phase == 46
        var touched: Set<Int> = []
        if c == 0 { touched = Set(0..<5) } else if isMerge { touched = [0] } else {
            let f = inBranch ? (onSide ? 0 : 1 + next(4)) : next(5)
            touched.insert(f)
            edit(f)
        }
        let who = authors[next(authors.count)]
        let when = 1_600_000_000 + c * 3600
        let msg = "commit \(c)\n"
        append("commit refs/heads/\(onSide ? "side" : "main")\nmark :\(c + 1)\n")
        append("author \(who) <\(who.lowercased())@example.com> \(when) +0000\n")
        append("committer \(who) <\(who.lowercased())@example.com> \(when) +0000\ndata \(msg.utf8.count)\n\(msg)")
        if onSide && phase == 41 { append("from :\(lastMain)\n") }
        if isMerge { append("merge :\(lastSide)\n") }
        for f in touched.sorted() {
            let text = render(files[f])
            append("M 100644 inline pkg/mod\(f).py\ndata \(text.utf8.count)\n\(text)\n")
        }
        append("\n")
        if onSide { lastSide = c + 1 } else { lastMain = c + 1 }
    }
    _ = try corpusRun(["git", "-C", root.path, "fast-import", "--quiet"], stdin: stream)
    _ = try corpusRun(["git", "-C", root.path, "reset", "-q", "--hard", "main"])
}

/// `Bench corpus`: standard-library extraction speed (against CPython's own ast.parse + walk of the
/// same files, measured in the same run) and git history on a synthetic 1,000-commit repository.
func benchCorpus(_ args: [String]) async throws {
    let stdlib = try corpusRun(["python3", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"])
        .trimmingCharacters(in: .whitespacesAndNewlines)
    let excluded: Set<String> = ["test", "tests", "idle_test", "site-packages", "__pycache__"]
    var options = CorpusScanner.Options()
    options.skipDirectoryNames = excluded
    options.useGitIgnore = false
    options.skipEggInfoAndVirtualenvs = false
    let root = URL(fileURLWithPath: stdlib)
    let files = try CorpusScanner.pythonFiles(root: root, options: options)
    var lines = 0, bytes = 0
    for f in files {
        if let d = FileManager.default.contents(atPath: stdlib + "/" + f) {
            bytes += d.count
            lines += d.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        }
    }
    var scan: CorpusScan? = nil
    var best2 = Double.infinity, best1 = Double.infinity
    for _ in 0..<3 { best2 = min(best2, try corpusSeconds { scan = try CorpusScanner.scan(root: root, options: options) }) }
    var one = options
    one.threads = 1
    for _ in 0..<2 { best1 = min(best1, try corpusSeconds { _ = try CorpusScanner.scan(root: root, options: one) }) }
    let nf = scan?.functions.count ?? 0

    // CPython: ast.parse + walk over the same files, timed inside the interpreter (best of 3).
    let listFile = FileManager.default.temporaryDirectory.appendingPathComponent("bench-corpus-files-\(UUID().uuidString)")
    try Data(files.map { stdlib + "/" + $0 }.joined(separator: "\n").utf8).write(to: listFile)
    defer { try? FileManager.default.removeItem(at: listFile) }
    let py = """
    import ast, sys, time, warnings
    warnings.simplefilter('ignore')
    paths = open(sys.argv[1]).read().split('\\n')
    best = 1e9
    for _ in range(3):
        t0 = time.perf_counter(); n = 0
        for p in paths:
            with open(p, 'rb') as fh:
                src = fh.read()
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            n += sum(isinstance(x, (ast.FunctionDef, ast.AsyncFunctionDef)) for x in ast.walk(tree))
        best = min(best, time.perf_counter() - t0)
    print(best, n)
    """
    let pyOut = try corpusRun(["python3", "-c", py, listFile.path]).split(separator: " ")
    let pyTime = Double(pyOut.first ?? "0") ?? 0
    let pyFns = Int(pyOut.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "0") ?? 0

    print("### Corpus: Python extraction (standard library)\n")
    print("\(files.count) files, \(lines) lines, \(bytes / 1024) KiB under `\(stdlib)` (minus test dirs and site-packages); best of runs, release build.\n")
    print("| extractor | threads | seconds | functions | functions/s |")
    print("|---|---|---|---|---|")
    print(String(format: "| Corpus (tokenizer + parser + properties + hashes) | %d | %.2f | %d | %.0f |", options.threads, best2, nf, Double(nf) / best2))
    print(String(format: "| Corpus | 1 | %.2f | %d | %.0f |", best1, nf, Double(nf) / best1))
    print(String(format: "| CPython `ast.parse` + `ast.walk` only (no properties) | 1 | %.2f | %d | %.0f |", pyTime, pyFns, Double(pyFns) / max(pyTime, 1e-9)))

    // History on a synthetic repository.
    let commits = Int(args.first ?? "") ?? 1000
    let repo = FileManager.default.temporaryDirectory.appendingPathComponent("bench-corpus-repo-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: repo) }
    let tBuild = try corpusSeconds { try synthesiseCorpusRepository(at: repo, commits: commits) }
    let repoScan = try CorpusScanner.scan(root: repo)
    let spans = repoScan.functions.map(FunctionSpan.init)
    var history: RepositoryHistory? = nil
    var tHist = Double.infinity
    for _ in 0..<3 { tHist = min(tHist, try corpusSeconds { history = try GitHistory.compute(root: repo, spans: spans) }) }
    // The naive way: one `git log -L` per function (timed on a sample, extrapolated).
    let sample = Array(repoScan.functions.prefix(10))
    let tSample = try corpusSeconds {
        for f in sample { _ = try corpusRun(["git", "-C", repo.path, "log", "-L\(f.startLine),\(f.endLine):\(f.path)", "-s", "--format=%H"]) }
    }
    let perFn = tSample / Double(max(sample.count, 1))
    let h = history!
    let meanCommits = Double(h.functions.reduce(0) { $0 + $1.commits }) / Double(max(h.functions.count, 1))
    print("\n### Corpus: git history\n")
    print(String(format: "Synthetic repository: %d commits (a merged side branch every 50) by 7 authors over 5 files (built with `git fast-import` in %.1f s), %d functions at HEAD, %.1f commits per function on average.\n",
                 h.commitCount, tBuild, spans.count, meanCommits))
    print("| method | seconds |")
    print("|---|---|")
    print(String(format: "| `GitHistory.compute` (one `git log -p -U0`, line-log replayed in Swift) | %.2f |", tHist))
    print(String(format: "| one `git log -L` per function (%.3f s each, measured on %d, × %d) | %.1f |", perFn, sample.count, spans.count, perFn * Double(spans.count)))
}
