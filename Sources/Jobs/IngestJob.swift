import Core
import Corpus
import Foundation
import Services
import Store
import Synchronization

/// `ingest {path, name?, history?, skip_dirs?, split?}` (`skip_dirs`: directory names never entered, e.g. `["test", "tests"]`): scans a directory of Python code, stores every function with its
/// static properties and (for a git repository) its history, and removes functions that vanished.
/// Re-ingesting is incremental: unchanged functions keep their rows and embeddings; changed ones have
/// their embeddings marked stale.
public enum IngestJob {
    public static let batchSize = 2_000

    /// How an ingested tree maps to repositories.
    public enum Split: String, Sendable, CaseIterable {
        /// The whole tree is one repository.
        case none
        /// Every top-level package or module becomes its own repository (`NAME/json`, `NAME/asyncio`, …).
        case topLevel = "top_level"
    }

    /// `ingest`'s parameters (unknown keys are ignored).
    ///
    /// ```swift
    /// let p = try IngestJob.Params.decode(["path": "/src/requests", "skip_dirs": ["tests"]], job: "ingest")
    /// p.history   // true
    /// ```
    public struct Params: JobParams, Equatable {
        /// A directory on the server's machine.
        public var path: String
        /// The repository name (default: the directory's name).
        public var name: String?
        /// Read git history when the directory is a repository (default true).
        public var history = true
        /// Directory names never entered, e.g. `["test", "tests"]`.
        public var skipDirs: [String] = []
        public var split = Split.none

        enum CodingKeys: String, CodingKey {
            case path, name, history, skipDirs = "skip_dirs", split
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            guard let path = try c.nonEmptyString(.path) else {
                throw APIError.badRequest("ingest needs 'path': a directory on the server's machine", code: "invalid_parameter")
            }
            self.path = path
            name = try c.nonEmptyString(.name)
            history = try c.value(.history, default: history)
            skipDirs = try c.value(.skipDirs, default: skipDirs)
            split = try c.choice(.split, default: split)
        }

        public func validate() throws {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                throw APIError.badRequest("'\(path)' is not a directory on the server's machine", code: "invalid_path")
            }
        }
    }

    /// `ingest`'s result.
    public struct Result: Encodable, Sendable {
        public var repo: String
        public var path: String
        public var files: Int
        public var functions: Int
        public var skippedFiles: Int
        public var created: Int
        public var updated: Int
        public var unchanged: Int
        public var removed: Int
        public var history: Bool
        public var commits: Int?
        public var seconds: Double

        enum CodingKeys: String, CodingKey {
            case repo, path, files, functions, skippedFiles = "skipped_files", created, updated, unchanged, removed, history, commits, seconds
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(repo, forKey: .repo); try c.encode(path, forKey: .path); try c.encode(files, forKey: .files)
            try c.encode(functions, forKey: .functions); try c.encode(skippedFiles, forKey: .skippedFiles)
            try c.encode(created, forKey: .created); try c.encode(updated, forKey: .updated); try c.encode(unchanged, forKey: .unchanged)
            try c.encode(removed, forKey: .removed); try c.encode(history, forKey: .history)
            try c.encode(commits, forKey: .commits)  // null without history, as the API documents
            try c.encode(seconds, forKey: .seconds)
        }
    }

    public static func register(on runner: JobRunner, writer: VectorWriter) {
        runner.register("ingest", Params.self) { ctx, p in try await run(ctx, p, writer: writer) }
    }

    static func run(_ ctx: JobContext, _ p: Params, writer: VectorWriter) async throws -> Result {
        let started = Date()
        let root = URL(fileURLWithPath: p.path).standardizedFileURL
        let name = p.name ?? root.lastPathComponent
        var options = CorpusScanner.Options()
        options.skipDirectoryNames.formUnion(p.skipDirs)
        await ctx.progress(0, "scanning \(root.path)")
        let scanOptions = options
        let reporter = ThrottledProgress(ctx: ctx, scale: 0.4, label: "scanned")
        let scan = try await ctx.compute {
            try CorpusScanner.scan(root: root, options: scanOptions) { p in
                reporter.report(Double(p.filesDone) / Double(max(1, p.filesTotal)), "\(p.filesDone)/\(p.filesTotal) files, \(p.functions) functions")
            }
        }
        try ctx.checkCancelled()
        for failure in scan.failures { await ctx.log("skipped \(failure.path): \(failure.reason)", level: .warning) }
        await ctx.log("scanned \(scan.files.count) files: \(scan.functions.count) functions, \(scan.failures.count) files skipped")

        var history: RepositoryHistory?
        if p.history && GitHistory.isRepository(root) {
            await ctx.progress(0.4, "git history")
            let t0 = Date()
            history = try await ctx.compute { try GitHistory.compute(root: root, spans: scan.functions.map(FunctionSpan.init)) }
            await ctx.log(String(format: "git history: %d commits, %.1f s", history!.commitCount, Date().timeIntervalSince(t0)))
        }
        try ctx.checkCancelled()

        // `split: "top_level"`: every top-level package or module becomes its own repository
        // (`NAME/json`, `NAME/asyncio`, …), so that a single tree like the standard library can be
        // split and grouped by repository for training and probes.
        let perTopLevel = p.split == .topLevel
        func repoName(_ path: String) -> String {
            guard perTopLevel, let first = path.split(separator: "/").first else { return name }
            let top = first.hasSuffix(".py") ? String(first.dropLast(3)) : String(first)
            return "\(name)/\(top)"
        }
        for repo in Set(scan.functions.map { repoName($0.path) }).sorted() {
            try await ctx.store.setRepositoryPath(name: repo, path: perTopLevel ? root.appendingPathComponent(String(repo.dropFirst(name.count + 1))).path : root.path)
        }
        var keep = [Int64](), created = 0, updated = 0, unchanged = 0
        let items = scan.functions.enumerated().map { i, f in input(f, repo: repoName(f.path), history: history, index: i) }
        for start in stride(from: 0, to: items.count, by: batchSize) {
            try ctx.checkCancelled()
            let batch = Array(items[start..<min(items.count, start + batchSize)])
            let summary = try await ctx.store.upsertFunctions(batch)
            keep += summary.ids
            created += summary.created; updated += summary.updated; unchanged += summary.unchanged
            let done = start + batch.count
            await ctx.progress(0.5 + 0.5 * Double(done) / Double(max(1, items.count)), "stored \(done)/\(items.count) functions")
        }
        var removed = 0
        for repo in Set(items.map(\.repo)).union([name]) { removed += try await writer.pruneFunctions(repo: repo, keep: keep) }
        let seconds = Date().timeIntervalSince(started)
        await ctx.log(String(format: "stored: %d new, %d changed, %d unchanged, %d removed in %.1f s", created, updated, unchanged, removed, seconds))
        return Result(repo: name, path: root.path, files: scan.files.count, functions: scan.functions.count,
                      skippedFiles: scan.failures.count, created: created, updated: updated, unchanged: unchanged,
                      removed: removed, history: history != nil, commits: history?.commitCount, seconds: seconds)
    }

    /// The store's view of an extracted function: its `StoredProperties`, history counts included.
    static func input(_ f: PythonFunction, repo: String, history: RepositoryHistory?, index: Int) -> FunctionInput {
        let stored = StoredProperties(
            properties: f.properties,
            position: SourcePosition(defLine: f.defLine, startByte: f.startByte, endByte: f.endByte, bodyStartByte: f.bodyStartByte),
            history: history.map { h in
                HistoryCounts(commits: h.functions[index].commits, authors: h.functions[index].authors, fileCommits: h.fileCommits[f.path] ?? 0)
            })
        return FunctionInput(repo: repo, path: f.path, qualifiedName: f.key, language: "python",
                             startLine: f.startLine, endLine: f.endLine, signature: f.signature, body: f.body,
                             properties: stored, contentHash: f.contentHash, bodyHash: f.bodyHash)
    }
}

/// Forwards progress from compute threads to the job at most a few times a second.
final class ThrottledProgress: Sendable {
    let ctx: JobContext
    let offset: Double
    let scale: Double
    let label: String
    private let last = Mutex(Date.distantPast)

    init(ctx: JobContext, offset: Double = 0, scale: Double, label: String) {
        self.ctx = ctx; self.offset = offset; self.scale = scale; self.label = label
    }

    func report(_ fraction: Double, _ message: String) {
        let now = Date()
        let due = last.withLock { last in
            guard now.timeIntervalSince(last) > 0.25 || fraction >= 1 else { return false }
            last = now
            return true
        }
        guard due else { return }
        let ctx = self.ctx, value = offset + scale * fraction
        Task { await ctx.progress(value, message) }
    }
}
