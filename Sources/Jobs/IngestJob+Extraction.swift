import Core
import Corpus
import Foundation
import Store

extension IngestJob {
    /// A file the scanner could not read or tokenize.
    public struct SkippedFile: Sendable, Equatable {
        public var path: String
        public var reason: String
    }

    /// A repository of an extracted tree and where it was read from.
    public struct ExtractedRepository: Sendable, Equatable {
        public var name: String
        public var path: String
    }

    /// What ingesting a directory stores, computed without a store: the `ingest` job stores it on
    /// the server, `swejepa ingest PATH --server URL` uploads it (`PUT /v1/repos/snapshot`).
    ///
    /// ```swift
    /// let ex = try IngestJob.extract(root: URL(fileURLWithPath: "/src/requests"), name: "requests")
    /// ex.functions.count      // every def with its properties (and history counts in a git repository)
    /// ex.pruned               // repositories whose other functions a re-ingest removes
    /// ```
    public struct Extraction: Sendable {
        /// The tree's repository name (the directory's name unless given).
        public var name: String
        /// Every repository the functions belong to (one, or one per top-level package with `split`).
        public var repositories: [ExtractedRepository]
        /// The functions in scan order, as the store takes them.
        public var functions: [FunctionInput]
        /// Repositories to prune after storing: every extracted one, and `name` itself.
        public var pruned: [String]
        public var files: Int
        public var skipped: [SkippedFile]
        /// Commits of the git history read (nil: no history).
        public var commits: Int?
        public var historySeconds: Double
    }

    /// Scans `root` (and reads its git history when asked and it is a repository) exactly as the
    /// `ingest` job does. Blocking: call it on a compute thread. `progress` gets a fraction in 0...1.
    public static func extract(root: URL, name: String?, history: Bool = true, skipDirs: [String] = [], split: Split = .none,
                               progress: @escaping @Sendable (Double, String) -> Void = { _, _ in },
                               isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> Extraction {
        let name = name ?? root.lastPathComponent
        var options = CorpusScanner.Options()
        options.skipDirectoryNames.formUnion(skipDirs)
        let scan = try CorpusScanner.scan(root: root, options: options) { p in
            progress(0.8 * Double(p.filesDone) / Double(max(1, p.filesTotal)), "\(p.filesDone)/\(p.filesTotal) files, \(p.functions) functions")
        }
        if isCancelled() { throw JobCancelled() }

        var repoHistory: RepositoryHistory?
        var historySeconds = 0.0
        if history && GitHistory.isRepository(root) {
            progress(0.8, "git history")
            let t0 = Date()
            repoHistory = try GitHistory.compute(root: root, spans: scan.functions.map(FunctionSpan.init))
            historySeconds = Date().timeIntervalSince(t0)
        }
        if isCancelled() { throw JobCancelled() }

        // `split: "top_level"`: every top-level package or module becomes its own repository
        // (`NAME/json`, `NAME/asyncio`, …), so that a single tree like the standard library can be
        // split and grouped by repository for training and probes.
        let perTopLevel = split == .topLevel
        func repoName(_ path: String) -> String {
            guard perTopLevel, let first = path.split(separator: "/").first else { return name }
            let top = first.hasSuffix(".py") ? String(first.dropLast(3)) : String(first)
            return "\(name)/\(top)"
        }
        let repositories = Set(scan.functions.map { repoName($0.path) }).sorted().map { repo in
            ExtractedRepository(name: repo, path: perTopLevel ? root.appendingPathComponent(String(repo.dropFirst(name.count + 1))).path : root.path)
        }
        let items = scan.functions.enumerated().map { i, f in input(f, repo: repoName(f.path), history: repoHistory, index: i) }
        return Extraction(name: name, repositories: repositories, functions: items,
                          pruned: Set(items.map(\.repo)).union([name]).sorted(), files: scan.files.count,
                          skipped: scan.failures.map { SkippedFile(path: $0.path, reason: $0.reason) },
                          commits: repoHistory?.commitCount, historySeconds: historySeconds)
    }
}
