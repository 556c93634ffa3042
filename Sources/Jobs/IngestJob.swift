import Core
import Corpus
import Foundation
import Services
import Store

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

    /// `ingest`'s parameters (unknown keys are refused: a typo would otherwise be silently ignored).
    ///
    /// ```swift
    /// let p = try IngestJob.Params.decode(["path": "/src/requests", "skip_dirs": ["tests"]], job: "ingest")
    /// p.history   // true
    /// ```
    public struct Params: JobParams, Equatable {
        /// A directory on the server's machine, under one of its ingest roots (`serve --ingest-root`).
        public var path: String
        /// The repository name (default: the directory's name).
        public var name: String?
        /// Read git history when the directory is a repository (default true).
        public var history = true
        /// Directory names never entered, e.g. `["test", "tests"]`.
        public var skipDirs: [String] = []
        public var split = Split.none

        enum CodingKeys: String, CodingKey, CaseIterable {
            case path, name, history, skipDirs = "skip_dirs", split
        }
        public static let knownKeys: Set<String>? = Set(CodingKeys.allCases.map(\.rawValue))

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

    /// Registers `ingest`; its `path` must lie under one of `roots` (none: every server path is refused).
    public static func register(on runner: JobRunner, writer: VectorWriter, roots: IngestRoots = .none) {
        runner.register("ingest", Params.self, check: { p in _ = try roots.resolve(p.path) }) { ctx, p in
            try await run(ctx, p, root: try roots.resolve(p.path), writer: writer)
        }
    }

    static func run(_ ctx: JobContext, _ p: Params, root: URL, writer: VectorWriter) async throws -> Result {
        let started = Date()
        await ctx.progress(0, "scanning")
        let reporter = ThrottledProgress(ctx: ctx, scale: 0.5, label: "extracted")
        let flags = ctx
        let ex = try await ctx.compute {
            try extract(root: root, name: p.name, history: p.history, skipDirs: p.skipDirs, split: p.split,
                        progress: { reporter.report($0, $1) }, isCancelled: { flags.isCancelled })
        }
        try ctx.checkCancelled()
        for failure in ex.skipped { await ctx.log("skipped \(failure.path): \(failure.reason)", level: .warning) }
        await ctx.log("scanned \(ex.files) files: \(ex.functions.count) functions, \(ex.skipped.count) files skipped")
        if let commits = ex.commits { await ctx.log(String(format: "git history: %d commits, %.1f s", commits, ex.historySeconds)) }

        for repo in ex.repositories { try await ctx.store.setRepositoryPath(name: repo.name, path: repo.path) }
        var keep = [Int64](), created = 0, updated = 0, unchanged = 0
        let items = ex.functions
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
        for repo in ex.pruned { removed += try await writer.pruneFunctions(repo: repo, keep: keep) }
        let seconds = Date().timeIntervalSince(started)
        await ctx.log(String(format: "stored: %d new, %d changed, %d unchanged, %d removed in %.1f s", created, updated, unchanged, removed, seconds))
        return Result(repo: ex.name, path: root.path, files: ex.files, functions: ex.functions.count,
                      skippedFiles: ex.skipped.count, created: created, updated: updated, unchanged: unchanged,
                      removed: removed, history: ex.commits != nil, commits: ex.commits, seconds: seconds)
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
