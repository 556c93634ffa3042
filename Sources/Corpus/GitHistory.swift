import Core
import Foundation

/// Where a function sits in the current (HEAD) version of a file; lines are 1-based and inclusive.
public struct FunctionSpan: Sendable, Codable, Hashable {
    /// Path relative to the scanned root.
    public var path: String
    public var startLine: Int
    public var endLine: Int

    public init(path: String, startLine: Int, endLine: Int) {
        self.path = path
        self.startLine = startLine
        self.endLine = endLine
    }

    /// The span `git log -L` is asked about: first decorator line through the last body line.
    public init(_ f: PythonFunction) { self.init(path: f.path, startLine: f.startLine, endLine: f.endLine) }
}

/// History of one function: the commits `git log -L START,END:FILE` lists, and their distinct author names.
public struct FunctionHistory: Sendable, Codable, Equatable {
    public var commits: Int
    public var authors: Int

    public init(commits: Int, authors: Int) {
        self.commits = commits
        self.authors = authors
    }
}

/// History of a repository for a set of function spans.
public struct RepositoryHistory: Sendable, Codable {
    /// HEAD's commit id.
    public var head: String
    /// Commits reachable from HEAD.
    public var commitCount: Int
    /// One entry per requested span, in order.
    public var functions: [FunctionHistory]
    /// Per file (path relative to the root): non-merge commits reachable from HEAD that changed it,
    /// following renames backwards (`git log --full-history --no-merges --follow -- FILE`).
    public var fileCommits: [String: Int]
}

/// Per-function git history from one pass over the repository's log (plus one `git diff-tree`
/// process for merge commits), not one `git` process per function.
///
/// The walk replicates `git log -L` (line-log.c): commits are visited newest to oldest in topological
/// order; each function carries a set of line ranges per path; across each commit's diff
/// (`-U0`, Myers without the indent heuristic, renames detected) the ranges are mapped to the parent
/// exactly as git maps them; a commit counts when one of its hunks touches the ranges. At a merge,
/// the first parent whose diff leaves the ranges untouched takes all of them (the merge does not
/// count); otherwise the merge counts and every parent receives its mapped ranges.
///
///     let scan = try CorpusScanner.scan(root: repo)
///     let history = try GitHistory.compute(root: repo, spans: scan.functions.map(FunctionSpan.init))
///     print(history.functions[0].commits, history.functions[0].authors)
public enum GitHistory {
    /// Whether `root` is inside a git work tree with at least one commit.
    public static func isRepository(_ root: URL) -> Bool {
        (try? git(root, ["rev-parse", "--verify", "-q", "HEAD"])) != nil
    }

    struct Commit {
        var id: String
        var parents: [Int]   // indices into the commit list
        var author: Int      // index into the author list
    }

    /// A file's diff in one commit against one parent.
    struct FileDiff {
        var oldPath: String?   // nil: the file was created
        var hunks: [DiffHunk]
    }

    /// History for extracted functions (their `startLine...endLine` spans), in the same order.
    public static func compute(root: URL, functions: [PythonFunction]) throws -> RepositoryHistory {
        try compute(root: root, spans: functions.map(FunctionSpan.init))
    }

    /// History for `spans` (paths relative to `root`, lines of the work tree), in the same order.
    /// Throws `CorpusError.git` when `root` is not in a git work tree with a commit or git fails.
    public static func compute(root: URL, spans: [FunctionSpan]) throws -> RepositoryHistory {
        let prefix = try String(decoding: git(root, ["rev-parse", "--show-prefix"]), as: UTF8.self)
            .trimmingCharacters(in: .newlines)
        // 1. The commit graph in topological order (children first), with authors.
        let graphText = try git(root, ["log", "--topo-order", "--format=%H%x09%P%x09%an", "HEAD"])
        var ids: [String] = [], parentIDs: [[Substring]] = [], authorNames: [String] = []
        var authorIndex: [String: Int] = [:]
        var authors: [Int] = []
        for line in String(decoding: graphText, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true) {
            let parts = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            ids.append(String(parts[0]))
            parentIDs.append(parts[1].split(separator: " "))
            let name = String(parts[2])
            if let a = authorIndex[name] { authors.append(a) } else {
                authorIndex[name] = authorNames.count; authors.append(authorNames.count); authorNames.append(name)
            }
        }
        var index: [String: Int] = [:]
        for (i, id) in ids.enumerated() { index[id] = i }
        let parents: [[Int]] = parentIDs.map { $0.compactMap { index[String($0)] } }
        guard !ids.isEmpty else { throw CorpusError.git(command: "log", status: 0, stderr: "no commits") }

        // 2. Diffs of every non-merge commit for Python files (renames detected).
        let pathspec = ":(top)*.py"
        let logText = try git(root, ["log", "--full-history", "--diff-merges=off", "--format=%x01%H", "-p", "-U0", "-M",
                                     "--no-indent-heuristic", "--no-color", "--no-ext-diff", "--no-textconv",
                                     "--src-prefix=a/", "--dst-prefix=b/", "HEAD", "--", pathspec])
        var diffs: [Int: [String: FileDiff]] = [:]
        for (id, files) in parsePatches(logText) { if let c = index[id] { diffs[c] = files } }

        // 3. Diffs of merges against a parent, asked lazily of one long-lived `git diff-tree --stdin`
        //    (a merge's second parent is only diffed when the first parent's diff touches the ranges).
        var session: DiffTreeSession? = nil
        defer { session?.close() }
        var mergeDiffs: [Int: [Int: [String: FileDiff]]] = [:]
        func mergeDiff(_ m: Int, _ i: Int) throws -> [String: FileDiff] {
            if let d = mergeDiffs[m]?[i] { return d }
            if session == nil {
                session = try DiffTreeSession(root: root, arguments: [
                    "diff-tree", "--stdin", "--always", "-r", "--format=%x01%H", "-p", "-U0", "-M",
                    "--no-indent-heuristic", "--no-color", "--no-ext-diff", "--no-textconv",
                    "--src-prefix=a/", "--dst-prefix=b/", "--", pathspec])
            }
            let out = try session!.diff(ids[m], ids[parents[m][i]])
            let d = parsePatches(out).first?.files ?? [:]
            mergeDiffs[m, default: [:]][i] = d
            return d
        }

        // 4. The line-log walk per function, and the per-file walk.
        let gitPaths = spans.map { prefix + $0.path }
        var results = [FunctionHistory](repeating: FunctionHistory(commits: 0, authors: 0), count: spans.count)
        // pending[commit][function] = ranges per path
        var pending: [Int: [Int: [String: LineRangeSet]]] = [:]
        var start: [Int: [String: LineRangeSet]] = [:]
        // Spans describe the work tree: map them to HEAD's lines through `git diff HEAD` (uncommitted
        // edits are not commits); files absent from HEAD have no history.
        let headFiles = Set(String(decoding: try git(root, ["ls-tree", "-r", "-z", "--name-only", "--full-tree", "HEAD"]), as: UTF8.self)
            .split(separator: "\0").map(String.init))
        let worktreeText = try git(root, ["diff", "-U0", "-M", "--no-indent-heuristic", "--no-color", "--no-ext-diff",
                                          "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", "HEAD", "--", pathspec])
        let worktree = parsePatches(Data("\u{1}WORKTREE\n".utf8) + worktreeText).first?.files ?? [:]
        var headPaths = gitPaths
        for (f, s) in spans.enumerated() where s.endLine >= s.startLine && s.startLine >= 1 {
            var rs = LineRangeSet(ranges: [LineRange(start: s.startLine - 1, end: s.endLine)])
            var path = gitPaths[f]
            if let d = worktree[path] {
                rs = rs.mapAcross(d.hunks).0
                guard let old = d.oldPath else { continue }
                path = old
            }
            headPaths[f] = path
            guard headFiles.contains(path), !rs.isEmpty else { continue }
            start[f] = [path: rs]
        }
        pending[0] = start
        var authorSets = [Set<Int>](repeating: [], count: spans.count)
        var fileCounts: [String: Int] = [:]
        // For the per-file walk, remember which HEAD path each historical path stands for.
        var fileOrigin: [Int: [String: Set<String>]] = [0: [:]]
        for (f, p) in headPaths.enumerated() where headFiles.contains(p) { fileOrigin[0]![p, default: []].insert(gitPaths[f]) }

        func mapThrough(_ byPath: [String: LineRangeSet], _ d: [String: FileDiff]) -> ([String: LineRangeSet], Bool) {
            var out: [String: LineRangeSet] = [:]
            var changed = false
            for (path, rs) in byPath {
                guard let fd = d[path] else {
                    out[path] = LineRangeSet.union(out[path]?.ranges ?? [], rs.ranges)
                    continue
                }
                let (mapped, touched) = rs.mapAcross(fd.hunks)
                if touched { changed = true }
                let parentPath = fd.oldPath ?? path
                if !mapped.isEmpty {
                    out[parentPath] = LineRangeSet.union(out[parentPath]?.ranges ?? [], mapped.ranges)
                }
            }
            return (out, changed)
        }
        func give(_ commit: Int, _ f: Int, _ ranges: [String: LineRangeSet]) {
            let nonEmpty = ranges.filter { !$0.value.isEmpty }
            if nonEmpty.isEmpty { return }
            var current = pending[commit, default: [:]][f] ?? [:]
            for (p, rs) in nonEmpty { current[p] = LineRangeSet.union(current[p]?.ranges ?? [], rs.ranges) }
            pending[commit, default: [:]][f] = current
        }

        for c in 0..<ids.count {
            // Files.
            if let origins = fileOrigin.removeValue(forKey: c) {
                var next: [String: Set<String>] = [:]
                if parents[c].count <= 1 {
                    let d = diffs[c] ?? [:]
                    for (path, heads) in origins {
                        if let fd = d[path] {
                            for h in heads { fileCounts[h, default: 0] += 1 }
                            if let old = fd.oldPath { next[old, default: []].formUnion(heads) }
                        } else {
                            next[path, default: []].formUnion(heads)
                        }
                    }
                    if let p = parents[c].first, !next.isEmpty {
                        for (k, v) in next { fileOrigin[p, default: [:]][k, default: []].formUnion(v) }
                    }
                } else {
                    for p in parents[c] { for (k, v) in origins { fileOrigin[p, default: [:]][k, default: []].formUnion(v) } }
                }
            }
            // Functions.
            guard let entries = pending.removeValue(forKey: c) else { continue }
            let ps = parents[c]
            if ps.count <= 1 {
                let d = diffs[c] ?? [:]
                for (f, byPath) in entries {
                    let (out, changed) = mapThrough(byPath, d)
                    if changed { results[f].commits += 1; authorSets[f].insert(authors[c]) }
                    if let p = ps.first { give(p, f, out) }
                }
            } else {
                for (f, byPath) in entries {
                    var candidates: [[String: LineRangeSet]] = []
                    var blamed = -1
                    for (i, _) in ps.enumerated() {
                        let d = try mergeDiff(c, i)
                        let (cand, changed) = mapThrough(byPath, d)
                        candidates.append(cand)
                        if !changed { blamed = i; break }
                    }
                    if blamed >= 0 {
                        give(ps[blamed], f, candidates[blamed])
                    } else {
                        results[f].commits += 1
                        authorSets[f].insert(authors[c])
                        for (i, p) in ps.enumerated() { give(p, f, candidates[i]) }
                    }
                }
            }
        }
        for f in results.indices { results[f].authors = authorSets[f].count }
        var fileCommits: [String: Int] = [:]
        for s in spans { fileCommits[s.path] = fileCounts[prefix + s.path] ?? 0 }
        return RepositoryHistory(head: ids[0], commitCount: ids.count, functions: results, fileCommits: fileCommits)
    }

    /// Parses `\u{1}<id>` headed sections of unified diffs (`-U0`) into per-path hunks (Python paths only).
    /// Returns the sections in output order (a commit may appear once per parent).
    static func parsePatches(_ data: Data) -> [(id: String, files: [String: FileDiff])] {
        var out: [(id: String, files: [String: FileDiff])] = []
        var current: [String: FileDiff] = [:]
        var currentID: String? = nil
        var path: String? = nil, oldPath: String? = nil, created = false, renameFrom: String? = nil, renameTo: String? = nil
        var hunks: [DiffHunk] = []
        var gitLinePaths: (String, String)? = nil

        func flushFile() {
            let newPath = renameTo ?? path ?? gitLinePaths?.1
            if let p = newPath, p.hasSuffix(".py") {
                let old: String? = created && renameFrom == nil ? nil : (renameFrom ?? oldPath ?? gitLinePaths?.0 ?? p)
                current[p] = FileDiff(oldPath: old, hunks: hunks)
            }
            path = nil; oldPath = nil; created = false; renameFrom = nil; renameTo = nil; hunks = []; gitLinePaths = nil
        }
        func flushCommit() {
            if let id = currentID { flushFile(); out.append((id, current)) }
            current = [:]
        }
        var inFile = false
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            var s = 0
            let n = b.count
            while s < n {
                var e = s
                while e < n && b[e] != 10 { e += 1 }
                let line = UnsafeBufferPointer(rebasing: b[s..<e])
                s = e + 1
                guard let first = line.first else { continue }
                switch first {
                case 1:
                    if inFile { flushFile(); inFile = false }
                    flushCommit()
                    currentID = String(decoding: UnsafeBufferPointer(rebasing: line[1...]), as: UTF8.self)
                case 43, 45, 32, 92:  // '+', '-', ' ', '\' content lines (or ---/+++ headers)
                    if line.starts(with: Array("--- ".utf8)) && hunks.isEmpty {
                        let p = String(decoding: UnsafeBufferPointer(rebasing: line[4...]), as: UTF8.self)
                        oldPath = p == "/dev/null" ? nil : unquote(p, dropPrefix: "a/")
                        if p == "/dev/null" { created = true }
                    } else if line.starts(with: Array("+++ ".utf8)) && hunks.isEmpty {
                        let p = String(decoding: UnsafeBufferPointer(rebasing: line[4...]), as: UTF8.self)
                        if p != "/dev/null" { path = unquote(p, dropPrefix: "b/") }
                    }
                case 64: // '@@ -a,b +c,d @@'
                    if let h = parseHunkHeader(line) { hunks.append(h) }
                case 100: // 'diff --git a/x b/y'
                    if line.starts(with: Array("diff --git ".utf8)) {
                        if inFile { flushFile() }
                        inFile = true
                        let rest = String(decoding: UnsafeBufferPointer(rebasing: line[11...]), as: UTF8.self)
                        gitLinePaths = splitGitLine(rest)
                    }
                case 114: // 'rename from/to'
                    let text = String(decoding: line, as: UTF8.self)
                    if text.hasPrefix("rename from ") { renameFrom = unquote(String(text.dropFirst(12)), dropPrefix: nil) }
                    if text.hasPrefix("rename to ") { renameTo = unquote(String(text.dropFirst(10)), dropPrefix: nil) }
                case 110: // 'new file mode'
                    if line.starts(with: Array("new file mode".utf8)) { created = true }
                default: break
                }
            }
        }
        if inFile { flushFile() }
        flushCommit()
        return out
    }

    /// `@@ -a[,b] +c[,d] @@` → hunk in 0-based half-open ranges (git's xdiff hunk callback values).
    static func parseHunkHeader(_ line: UnsafeBufferPointer<UInt8>) -> DiffHunk? {
        var k = 0
        let n = line.count
        func number() -> Int? {
            var v = 0, any = false
            while k < n, line[k] >= 48, line[k] <= 57 { v = v * 10 + Int(line[k] - 48); k += 1; any = true }
            return any ? v : nil
        }
        while k < n && line[k] != 45 { k += 1 }
        k += 1
        guard let a = number() else { return nil }
        var b = 1
        if k < n && line[k] == 44 { k += 1; b = number() ?? 1 }
        while k < n && line[k] != 43 { k += 1 }
        k += 1
        guard let c = number() else { return nil }
        var d = 1
        if k < n && line[k] == 44 { k += 1; d = number() ?? 1 }
        let ps = b == 0 ? a : a - 1
        let ts = d == 0 ? c : c - 1
        return DiffHunk(parent: LineRange(start: ps, end: ps + b), target: LineRange(start: ts, end: ts + d))
    }

    /// Paths from `diff --git a/X b/Y` when both are unquoted and equal-length halves are ambiguous-free.
    static func splitGitLine(_ rest: String) -> (String, String)? {
        guard rest.hasPrefix("a/") else { return nil }
        let body = rest.dropFirst(2)
        // "X b/X": for unrenamed files both halves are the same.
        let len = (body.count - 3) / 2
        if len > 0, body.count == 2 * len + 3 {
            let x = body.prefix(len)
            let y = body.suffix(len)
            if body.dropFirst(len).hasPrefix(" b/") && x == y { return (String(x), String(y)) }
        }
        return nil
    }

    /// Undoes git's C-style quoting of unusual paths ("a/caf\303\251.py").
    static func unquote(_ p: String, dropPrefix: String?) -> String {
        var s = p
        if s.hasPrefix("\"") && s.hasSuffix("\"") && s.count >= 2 {
            var bytes: [UInt8] = []
            let u = Array(s.utf8.dropFirst().dropLast())
            var i = 0
            while i < u.count {
                if u[i] == 92 && i + 1 < u.count {
                    let c = u[i + 1]
                    if c >= 48 && c <= 55 && i + 3 < u.count {
                        let hi = Int(u[i + 1]) - 48, mid = Int(u[i + 2]) - 48, lo = Int(u[i + 3]) - 48
                        bytes.append(UInt8(truncatingIfNeeded: hi * 64 + mid * 8 + lo))
                        i += 4; continue
                    }
                    switch c {
                    case 110: bytes.append(10)
                    case 116: bytes.append(9)
                    case 114: bytes.append(13)
                    case 97: bytes.append(7)
                    case 98: bytes.append(8)
                    case 102: bytes.append(12)
                    case 118: bytes.append(11)
                    default: bytes.append(c)
                    }
                    i += 2; continue
                }
                bytes.append(u[i]); i += 1
            }
            s = String(decoding: bytes, as: UTF8.self)
        }
        if let d = dropPrefix, s.hasPrefix(d) { s.removeFirst(d.count) }
        // `--- a/x\t` may carry a trailing tab for paths with spaces.
        if s.hasSuffix("\t") { s.removeLast() }
        return s
    }

    /// Runs `git -C root ARGS`, returning stdout; throws `CorpusError.git` on failure.
    static func git(_ root: URL, _ args: [String], stdin: Data? = nil) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-c", "core.quotePath=false", "-c", "diff.noprefix=false", "-c", "log.showSignature=false",
                       "-C", root.path] + args
        var env = ProcessInfo.processInfo.environment
        env["GIT_PAGER"] = "cat"
        env["LC_ALL"] = "C"
        p.environment = env
        let outPipe = Pipe(), errPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        let inPipe = stdin == nil ? nil : Pipe()
        if let inPipe { p.standardInput = inPipe } else { p.standardInput = FileHandle.nullDevice }
        do { try p.run() } catch {
            throw CorpusError.git(command: args.first ?? "", status: -1, stderr: "cannot run git: \(error)")
        }
        // Feed stdin on another thread so a large output cannot dead-lock against a large input.
        if let inPipe, let stdin {
            let handle = inPipe.fileHandleForWriting
            let writer = Thread {
                handle.write(stdin)
                try? handle.close()
            }
            writer.start()
        }
        let errBox = DataBox()
        let errThread = Thread { errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile() }
        errThread.start()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !errBox.done { usleep(1000) }
        guard p.terminationStatus == 0 else {
            throw CorpusError.git(command: args.prefix(2).joined(separator: " "), status: p.terminationStatus,
                                  stderr: String(decoding: errBox.data, as: UTF8.self))
        }
        return out
    }

    /// What the stderr-reading thread hands back: the data, and whether it has finished.
    final class DataBox: Sendable {
        private let state = Mutex((data: Data(), done: false))
        var data: Data {
            get { state.withLock { $0.data } }
            set { state.withLock { $0 = (newValue, true) } }
        }
        var done: Bool { state.withLock { $0.done } }
    }
}

/// A long-lived `git diff-tree --stdin`: each request is answered up to an echoed marker line.
final class DiffTreeSession {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var buffer = Data()
    static let marker = Data("\u{1}END-OF-DIFF\n".utf8)

    init(root: URL, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-c", "core.quotePath=false", "-C", root.path] + arguments
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C"
        process.environment = env
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw CorpusError.git(command: "diff-tree", status: -1, stderr: "cannot run git: \(error)")
        }
    }

    /// The patch of `commit` against `parent` (with its `\u{1}<id>` header line).
    func diff(_ commit: String, _ parent: String) throws -> Data {
        let request = Data("\(commit) \(parent)\n".utf8) + DiffTreeSession.marker
        do { try input.fileHandleForWriting.write(contentsOf: request) } catch {
            throw CorpusError.git(command: "diff-tree", status: -1, stderr: "write failed: \(error)")
        }
        // Read until the echoed marker (it starts a line).
        while true {
            if let r = markerRange() {
                let answer = buffer.subdata(in: buffer.startIndex..<r.lowerBound)
                buffer = buffer.subdata(in: r.upperBound..<buffer.endIndex)
                return answer
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                throw CorpusError.git(command: "diff-tree", status: process.isRunning ? 0 : process.terminationStatus,
                                      stderr: "diff-tree ended before answering \(commit) \(parent)")
            }
            buffer.append(chunk)
        }
    }

    private func markerRange() -> Range<Data.Index>? {
        var from = buffer.startIndex
        while let r = buffer.range(of: DiffTreeSession.marker, in: from..<buffer.endIndex) {
            if r.lowerBound == buffer.startIndex || buffer[r.lowerBound - 1] == 10 { return r }
            from = r.upperBound
        }
        return nil
    }

    func close() {
        try? input.fileHandleForWriting.close()
        _ = try? output.fileHandleForReading.readToEnd()
        process.waitUntilExit()
    }
}
