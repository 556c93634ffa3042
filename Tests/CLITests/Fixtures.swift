import Foundation

/// Small Python corpora written by the tests, with their `def` counts computed independently
/// (by Python's own `ast` module, not by the extractor under test).
enum PythonFixture {
    /// Writes `files` (relative path → source) under `root`.
    static func write(_ files: [String: String], under root: URL) throws {
        for (path, source) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try source.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    /// Every `def` and `async def` (nested and methods included) in the `.py` files under `root`,
    /// counted by `python3 -c 'import ast ...'`; skips `.git`.
    static func defCount(under root: URL) async throws -> Int {
        let script = """
            import ast, os, sys
            n = 0
            for d, dirs, files in os.walk(sys.argv[1]):
                dirs[:] = [x for x in dirs if x != '.git']
                for f in files:
                    if f.endswith('.py'):
                        tree = ast.parse(open(os.path.join(d, f)).read())
                        n += sum(isinstance(x, (ast.FunctionDef, ast.AsyncFunctionDef)) for x in ast.walk(tree))
            print(n)
            """
        let out = try await run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, root.path])
        guard out.status == 0, let n = Int(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ServerProcess.Failure(description: "python3 ast count failed: \(out)")
        }
        return n
    }

    /// A module of `count` functions of growing length (so `loc` varies), one class with a method, one
    /// async function and one nested function.
    static func module(_ name: String, count: Int) -> String {
        var s = "\"\"\"Module \(name).\"\"\"\nimport os\n\n"
        for i in 0..<count {
            s += "def \(name)_f\(i)(x, y=\(i)):\n"
            for j in 0...(i % 5) { s += "    x = x + y * \(j)\n" }
            if i % 3 == 0 { s += "    if x > \(i):\n        return os.path.join(str(x), 'a')\n" }
            s += "    return x\n\n"
        }
        s += "class \(name.capitalized)Box:\n    def get(self, key):\n        return key\n\n"
        s += "async def \(name)_fetch(url):\n    def inner(v):\n        return v * 2\n    return inner(len(url))\n"
        return s
    }

    /// A git repository in `root` with two commits: the second edits `changed()` only.
    static func gitRepository(at root: URL) async throws {
        try write(["lib.py": "def stable(a):\n    return a + 1\n\n\ndef changed(b):\n    return b\n"], under: root)
        try await git(root, ["init", "-q"])
        try await git(root, ["add", "-A"])
        try await git(root, ["commit", "-q", "-m", "first"])
        try write(["lib.py": "def stable(a):\n    return a + 1\n\n\ndef changed(b):\n    b = b * 2\n    return b\n"], under: root)
        try await git(root, ["commit", "-q", "-am", "second"])
    }

    static func git(_ root: URL, _ args: [String]) async throws {
        let out = try await run(URL(fileURLWithPath: "/usr/bin/git"), ["-C", root.path] + args,
                                environment: ["GIT_AUTHOR_NAME": "Ann", "GIT_AUTHOR_EMAIL": "ann@example.org",
                                              "GIT_COMMITTER_NAME": "Ann", "GIT_COMMITTER_EMAIL": "ann@example.org"])
        guard out.status == 0 else { throw ServerProcess.Failure(description: "git \(args.joined(separator: " ")): \(out)") }
    }
}
