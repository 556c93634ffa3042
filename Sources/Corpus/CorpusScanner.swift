import Core
import Foundation

/// A Python file seen by a scan.
public struct ScannedFile: Sendable, Codable, Equatable {
    /// Path relative to the scan root, '/'-separated.
    public var path: String
    public var bytes: Int
    /// Declared (or default) source encoding.
    public var encoding: String
    /// Number of functions extracted (0 when the file failed).
    public var functionCount: Int
}

/// A file that could not be read, decoded, tokenized or parsed; it is skipped.
public struct ScanFailure: Sendable, Codable, Equatable, Error {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// The result of scanning a directory.
public struct CorpusScan: Sendable, Codable {
    public var files: [ScannedFile]
    /// In file order, then source order.
    public var functions: [PythonFunction]
    public var failures: [ScanFailure]
}

/// Progress of a scan, reported from the scanning thread.
public struct ScanProgress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    public var functions: Int
}

/// Walks a directory and extracts every function of every `.py` file.
///
///     let scan = try CorpusScanner.scan(root: URL(fileURLWithPath: "/src/repo")) { p in print(p.filesDone, p.filesTotal) }
///     print(scan.functions.count, scan.failures)
public enum CorpusScanner {
    /// What the walk skips.
    public struct Options: Sendable {
        /// Directory names never entered.
        public var skipDirectoryNames: Set<String> = [
            ".git", ".hg", ".svn", "__pycache__", "site-packages", "node_modules", ".tox", ".nox", ".venv",
            "build", "dist", ".eggs", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        ]
        /// Skip directories ending in `.egg-info` and directories holding a `pyvenv.cfg` (virtualenvs).
        public var skipEggInfoAndVirtualenvs = true
        /// Honour `.gitignore` files (and `.git/info/exclude` at the root).
        public var useGitIgnore = true
        /// Number of threads extracting files concurrently.
        public var threads = max(1, ProcessInfo.processInfo.activeProcessorCount)

        public init() {}
    }

    /// The `.py` files under `root` (relative paths, sorted), applying `options`' skip rules and .gitignore.
    public static func pythonFiles(root: URL, options: Options = Options()) throws -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        var stack = GitIgnoreStack()
        let rootPath = root.standardizedFileURL.path
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: rootPath, isDirectory: &isDir), isDir.boolValue else {
            throw CorpusError.io(path: rootPath, reason: "not a directory")
        }
        if options.useGitIgnore, let exclude = try? String(contentsOfFile: rootPath + "/.git/info/exclude", encoding: .utf8) {
            stack.push(GitIgnoreFile(directory: "", contents: exclude))
        }
        func walk(_ rel: String) throws {
            let abs = rel.isEmpty ? rootPath : rootPath + "/" + rel
            let names: [String]
            do { names = try fm.contentsOfDirectory(atPath: abs) } catch {
                throw CorpusError.io(path: abs, reason: "cannot list directory: \(error.localizedDescription)")
            }
            if options.skipEggInfoAndVirtualenvs && !rel.isEmpty && names.contains("pyvenv.cfg") { return }
            var pushed = false
            if options.useGitIgnore, names.contains(".gitignore"),
               let data = fm.contents(atPath: abs + "/.gitignore") {
                stack.push(GitIgnoreFile(directory: rel, contents: String(decoding: data, as: UTF8.self)))
                pushed = true
            }
            defer { if pushed { stack.pop() } }
            for name in names.sorted() {
                let childRel = rel.isEmpty ? name : rel + "/" + name
                let childAbs = abs + "/" + name
                guard let attrs = try? fm.attributesOfItem(atPath: childAbs), let type = attrs[.type] as? FileAttributeType else { continue }
                if type == .typeDirectory {
                    if options.skipDirectoryNames.contains(name) { continue }
                    if options.skipEggInfoAndVirtualenvs && name.hasSuffix(".egg-info") { continue }
                    if options.useGitIgnore && stack.isIgnored(childRel, isDirectory: true) { continue }
                    try walk(childRel)
                } else if type == .typeRegular, name.hasSuffix(".py") {
                    if options.useGitIgnore && stack.isIgnored(childRel, isDirectory: false) { continue }
                    out.append(childRel)
                }
                // Symbolic links are not followed (cycles, files outside the repository).
            }
        }
        try walk("")
        return out.sorted()
    }

    /// Scans `root`: lists files (see `pythonFiles`) and extracts their functions on `options.threads` threads.
    public static func scan(root: URL, options: Options = Options(),
                            progress: @Sendable (ScanProgress) -> Void = { _ in }) throws -> CorpusScan {
        let paths = try pythonFiles(root: root, options: options)
        let rootPath = root.standardizedFileURL.path
        let results = ResultBox(count: paths.count)
        let threads = max(1, min(options.threads, paths.count))
        ParallelFor.perform(threads) { worker in
            var k = worker
            while k < paths.count {
                let rel = paths[k]
                let outcome: Result<(ScannedFile, [PythonFunction]), ScanFailure>
                if let data = FileManager.default.contents(atPath: rootPath + "/" + rel) {
                    do {
                        let src = try PythonSource(data: data, path: rel)
                        let fns = try PythonExtractor.extract(utf8: src.utf8, path: rel)
                        outcome = .success((ScannedFile(path: rel, bytes: data.count, encoding: src.encoding,
                                                        functionCount: fns.count), fns))
                    } catch {
                        outcome = .failure(ScanFailure(path: rel, reason: "\(error)"))
                    }
                } else {
                    outcome = .failure(ScanFailure(path: rel, reason: "cannot read file"))
                }
                let p = results.store(k, outcome, total: paths.count)
                progress(p)
                k += threads
            }
        }
        var files: [ScannedFile] = [], functions: [PythonFunction] = [], failures: [ScanFailure] = []
        for r in results.take() {
            switch r {
            case .success(let (f, fns)): files.append(f); functions.append(contentsOf: fns)
            case .failure(let e): failures.append(e)
            case nil: break
            }
        }
        return CorpusScan(files: files, functions: functions, failures: failures)
    }

    /// Per-file outcomes, filled in by the scanning threads in any order.
    final class ResultBox: Sendable {
        typealias Outcome = Result<(ScannedFile, [PythonFunction]), ScanFailure>
        private struct State {
            var slots: [Outcome?]
            var done = 0, fnCount = 0
        }
        private let state: Mutex<State>

        init(count: Int) { state = Mutex(State(slots: Array(repeating: nil, count: count))) }

        func store(_ k: Int, _ r: Outcome, total: Int) -> ScanProgress {
            state.withLock { s in
                s.slots[k] = r
                s.done += 1
                if case .success(let (_, fns)) = r { s.fnCount += fns.count }
                return ScanProgress(filesDone: s.done, filesTotal: total, functions: s.fnCount)
            }
        }

        func take() -> [Outcome?] { state.withLock { $0.slots } }
    }
}
