import Corpus
import Foundation
import Testing
import TestSupport

extension ScratchRepo {
    /// Writes `lines` (each ended by a newline) to `path`, making folders.
    func write(_ path: String, _ lines: [String]) throws {
        try write(path, lines.joined(separator: "\n") + "\n")
    }
}

/// Python function text: optional decorator, a def line, a docstring and `body` lines.
func pyFunction(_ name: String, _ body: [String], decorator: String? = nil, indent: String = "") -> [String] {
    var out: [String] = []
    if let d = decorator { out.append(indent + d) }
    out.append(indent + "def \(name)(x):")
    out.append(indent + "    \"\"\"\(name) docs.\"\"\"")
    out += body.map { indent + "    " + $0 }
    out.append("")
    out.append("")
    return out
}

@Suite(.ownThreads) struct GitHistoryTests {
    /// Builds a repository whose history edits, moves, decorates, renames and merges functions,
    /// by five authors; returns it.
    static func buildRepository() throws -> ScratchRepo {
        let r = try ScratchRepo()
        let a0 = pyFunction("alpha", ["y = x + 1", "return y"])
        let b0 = pyFunction("beta", ["if x:", "    return 1", "return 2"])
        let c0 = pyFunction("gamma", ["for i in range(x):", "    x += i", "return x"])
        try r.write("pkg/mod.py", ["import os", "", ""] + a0 + b0 + c0)
        try r.write("util.py", pyFunction("u1", ["return x * 2"]) + pyFunction("u2", ["return x * 3"]))
        try r.commit("initial", author: "Alice")

        // Bob edits beta's body and adds delta at the top (shifting everything).
        let b1 = pyFunction("beta", ["if x:", "    return 10", "return 20"])
        let d0 = pyFunction("delta", ["return -x"])
        try r.write("pkg/mod.py", ["import os", "", ""] + d0 + a0 + b1 + c0)
        try r.commit("edit beta, add delta", author: "Bob")

        // Carol moves gamma above alpha and edits u1.
        try r.write("pkg/mod.py", ["import os", "", ""] + d0 + c0 + a0 + b1)
        try r.write("util.py", pyFunction("u1", ["z = x * 2", "return z"]) + pyFunction("u2", ["return x * 3"]))
        try r.commit("move gamma, edit u1", author: "Carol")

        // Alice decorates alpha; renames util.py to tools.py with a small edit.
        let a1 = pyFunction("alpha", ["y = x + 1", "return y"], decorator: "@staticmethod")
        try r.write("pkg/mod.py", ["import os", "", ""] + d0 + c0 + a1 + b1)
        try r.git(["mv", "util.py", "tools.py"])
        try r.write("tools.py", pyFunction("u1", ["z = x * 2", "return z"]) + pyFunction("u2", ["return x * 3 + 0"]))
        try r.commit("decorate alpha, rename util", author: "Alice")

        // A side branch (Bob) edits delta; main (Carol) edits alpha; Dave merges.
        try r.git(["checkout", "-q", "-b", "side"])
        let d1 = pyFunction("delta", ["y = -x", "return y"])
        try r.write("pkg/mod.py", ["import os", "", ""] + d1 + c0 + a1 + b1)
        try r.commit("side: edit delta", author: "Bob")
        try r.git(["checkout", "-q", "main"])
        let a2 = pyFunction("alpha", ["y = x + 2", "return y"], decorator: "@staticmethod")
        try r.write("pkg/mod.py", ["import os", "", ""] + d0 + c0 + a2 + b1)
        try r.commit("main: edit alpha", author: "Carol")
        try r.git(["merge", "-q", "--no-ff", "-m", "merge side", "side"], author: "Dave")

        // A branch that only touches tools.py, merged: pkg/mod.py is unchanged against one parent.
        try r.git(["checkout", "-q", "-b", "tools"])
        try r.write("tools.py", pyFunction("u1", ["z = x * 2", "return z + 0"]) + pyFunction("u2", ["return x * 3 + 0"]))
        try r.commit("tools: edit u1", author: "Erin")
        try r.git(["checkout", "-q", "main"])
        try r.write("pkg/mod.py", ["import os", "import sys", "", ""] + d1 + c0 + a2 + b1)
        try r.commit("main: import sys", author: "Alice")
        try r.git(["merge", "-q", "--no-ff", "-m", "merge tools", "tools"], author: "Dave")

        // Dave inserts lines inside gamma (pure insertion) and deletes a line inside beta (pure deletion).
        let c1 = pyFunction("gamma", ["for i in range(x):", "    x += i", "    x -= 1", "    x += 1", "return x"])
        let b2 = pyFunction("beta", ["if x:", "    return 10", ""].filter { !$0.isEmpty } + ["return 20"])
        try r.write("pkg/mod.py", ["import os", "import sys", "", ""] + d1 + c1 + a2 + b2)
        try r.commit("grow gamma", author: "Dave")
        let b3 = ["def beta(x):", "    \"\"\"beta docs.\"\"\"", "    if x:", "        return 10", "", ""]
        try r.write("pkg/mod.py", ["import os", "import sys", "", ""] + d1 + c1 + a2 + b3)
        try r.commit("shrink beta", author: "Dave")

        // Erin edits only the blank lines and comments between functions.
        var last = ["import os", "import sys", "", "# helpers"] + d1 + c1 + a2 + b3
        last.append("# end")
        try r.write("pkg/mod.py", last)
        try r.commit("comments", author: "Erin")
        // Both sides of a merge edit different lines of gamma: the merge itself changes it against each parent.
        try r.git(["checkout", "-q", "-b", "both"])
        let c2 = pyFunction("gamma", ["for i in range(x):", "    x += i", "    x -= 1", "    x += 1", "return x * 1"])
        try r.write("pkg/mod.py", ["import os", "import sys", "", "# helpers"] + d1 + c2 + a2 + b3 + ["# end"])
        try r.commit("both: gamma tail", author: "Bob")
        try r.git(["checkout", "-q", "main"])
        let c3 = pyFunction("gamma", ["for i in range(x + 1):", "    x += i", "    x -= 1", "    x += 1", "return x"])
        try r.write("pkg/mod.py", ["import os", "import sys", "", "# helpers"] + d1 + c3 + a2 + b3 + ["# end"])
        try r.commit("main: gamma head", author: "Erin")
        try r.git(["merge", "-q", "--no-ff", "-m", "merge both", "both"], author: "Frank")
        let d2 = pyFunction("delta", ["y = -x", "return y + 0"])
        let merged = try String(contentsOf: r.root.appendingPathComponent("pkg/mod.py"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try r.write("pkg/mod.py", Array(merged.prefix(4)) + d2 + Array(merged.dropFirst(4 + d1.count)).dropLast())
        try r.commit("edit delta again", author: "Carol")

        // A new function with a single commit, and a new file.
        try r.write("pkg/new.py", pyFunction("fresh", ["return 0"]))
        try r.commit("new file", author: "Frank")
        return r
    }

    /// What `git log -L START,END:FILE` lists: (commit ids, distinct authors).
    static func gitLogL(_ r: ScratchRepo, _ f: PythonFunction) throws -> (commits: Int, authors: Int) {
        try r.logL(path: f.path, start: f.startLine, end: f.endLine)
    }

    @Test func functionHistoryMatchesGitLogL() throws {
        let r = try Self.buildRepository()
        let scan = try CorpusScanner.scan(root: r.root)
        #expect(scan.failures.isEmpty)
        let names = Set(scan.functions.map(\.qualifiedName))
        #expect(names == ["alpha", "beta", "gamma", "delta", "u1", "u2", "fresh"])
        let history = try GitHistory.compute(root: r.root, spans: scan.functions.map(FunctionSpan.init))
        #expect(history.functions.count == scan.functions.count)
        var multiCommit = 0
        for (f, h) in zip(scan.functions, history.functions) {
            let expected = try Self.gitLogL(r, f)
            #expect(h.commits == expected.commits && h.authors == expected.authors,
                    "\(f.path) \(f.qualifiedName) \(f.startLine)-\(f.endLine): ours \(h) vs git log -L \(expected)")
            if expected.commits >= 3 { multiCommit += 1 }
            print("history \(f.path) \(f.qualifiedName) lines \(f.startLine)-\(f.endLine): \(h.commits) commits, \(h.authors) authors (git log -L: \(expected.commits), \(expected.authors))")
        }
        // The repository must exercise real histories, not only single-commit functions.
        #expect(multiCommit >= 3)
        // File commit counts against git's own --follow.
        for path in Set(scan.functions.map(\.path)) {
            let out = try r.git(["log", "--full-history", "--no-merges", "--follow", "--format=%H", "--", path])
            let expected = out.split(separator: "\n").count
            #expect(history.fileCommits[path] == expected, "\(path): \(String(describing: history.fileCommits[path])) vs \(expected)")
        }
        #expect(history.commitCount == Int(try r.git(["rev-list", "--count", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Uncommitted edits: spans of the work tree are mapped to HEAD's lines; untracked files have no history.
    @Test func dirtyWorkTree() throws {
        let r = try Self.buildRepository()
        let before = try CorpusScanner.scan(root: r.root).functions.filter { $0.path == "pkg/mod.py" }
        let url = r.root.appendingPathComponent("pkg/mod.py")
        let text = try String(contentsOf: url, encoding: .utf8)
        try Data(("# uncommitted 1\n# uncommitted 2\n# uncommitted 3\n" + text).utf8).write(to: url)
        try r.write("scratch.py", pyFunction("draft", ["return 1"]))
        let scan = try CorpusScanner.scan(root: r.root)
        let history = try GitHistory.compute(root: r.root, spans: scan.functions.map(FunctionSpan.init))
        var checked = 0
        for (f, h) in zip(scan.functions, history.functions) {
            if f.path == "scratch.py" {
                #expect(h == FunctionHistory(commits: 0, authors: 0))
                #expect(history.fileCommits["scratch.py"] == 0)
            }
            guard f.path == "pkg/mod.py", let old = before.first(where: { $0.qualifiedName == f.qualifiedName }) else { continue }
            #expect(f.startLine == old.startLine + 3)
            let expected = try Self.gitLogL(r, old)
            #expect(h.commits == expected.commits && h.authors == expected.authors, "\(f.qualifiedName): \(h) vs \(expected)")
            checked += 1
        }
        #expect(checked == 4)
    }

    @Test func gitIgnoreAndSkippedDirectories() throws {
        let r = try ScratchRepo()
        try r.write(".gitignore", ["*.gen.py", "/generated/", "docs/**/conf.py", "!keep.gen.py", "build_out/"])
        try r.write("src/.gitignore", ["local_*.py", "!local_keep.py"])
        let one = pyFunction("f", ["return 1"])
        for p in ["a.py", "x.gen.py", "keep.gen.py", "generated/g.py", "sub/generated/g.py", "docs/a/b/conf.py",
                  "docs/conf.py", "src/local_x.py", "src/local_keep.py", "src/deep/local_y.py", "build_out/o.py",
                  "venv1/lib.py", "build/b.py", "pkg.egg-info/e.py", "__pycache__/c.py", "node_modules/n.py",
                  "site-packages/s.py"] {
            try r.write(p, one)
        }
        try r.write("venv1/pyvenv.cfg", ["home = /usr/bin"])
        let files = try CorpusScanner.pythonFiles(root: r.root)
        #expect(files == ["a.py", "keep.gen.py", "src/local_keep.py", "sub/generated/g.py"])
        // git agrees on what is ignored among the files git can see.
        let untracked = try r.git(["ls-files", "--others", "--exclude-standard"]).split(separator: "\n").map(String.init)
            .filter { $0.hasSuffix(".py") }
        let gitView = Set(untracked).subtracting(["venv1/lib.py", "build/b.py", "pkg.egg-info/e.py", "__pycache__/c.py",
                                                   "node_modules/n.py", "site-packages/s.py"])
        #expect(Set(files) == gitView)
    }

    @Test func notARepository() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-nogit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!GitHistory.isRepository(dir))
        #expect(throws: CorpusError.self) { try GitHistory.compute(root: dir, spans: []) }
    }
}
