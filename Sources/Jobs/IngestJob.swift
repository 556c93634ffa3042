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

    public static func validate(_ p: JSONValue) throws {
        guard let path = p["path"]?.stringValue, !path.isEmpty else {
            throw APIError.badRequest("ingest needs 'path': a directory on the server's machine", code: "invalid_parameter")
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw APIError.badRequest("'\(path)' is not a directory on the server's machine", code: "invalid_path")
        }
        if let skip = p["skip_dirs"], skip.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true {
            throw APIError.badRequest("'skip_dirs' must be a list of directory names", code: "invalid_parameter")
        }
        if let split = p["split"], split.stringValue != "top_level" && split.stringValue != "none" {
            throw APIError.badRequest("'split' must be \"none\" or \"top_level\"", code: "invalid_parameter")
        }
        if let name = p["name"], name.stringValue?.isEmpty ?? true {
            throw APIError.badRequest("'name' must be a non-empty string", code: "invalid_parameter")
        }
    }

    public static func register(on runner: JobRunner, writer: VectorWriter) {
        runner.register("ingest", validate: validate) { ctx in try await run(ctx, writer: writer) }
    }

    static func run(_ ctx: JobContext, writer: VectorWriter) async throws -> JSONValue {
        let started = Date()
        let root = URL(fileURLWithPath: ctx.params["path"]!.stringValue!).standardizedFileURL
        let name = ctx.params["name"]?.stringValue ?? root.lastPathComponent
        let wantHistory = ctx.params["history"]?.boolValue ?? true
        var options = CorpusScanner.Options()
        for name in ctx.params["skip_dirs"]?.arrayValue?.compactMap(\.stringValue) ?? [] { options.skipDirectoryNames.insert(name) }
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
        if wantHistory && GitHistory.isRepository(root) {
            await ctx.progress(0.4, "git history")
            let t0 = Date()
            history = try await ctx.compute { try GitHistory.compute(root: root, spans: scan.functions.map(FunctionSpan.init)) }
            await ctx.log(String(format: "git history: %d commits, %.1f s", history!.commitCount, Date().timeIntervalSince(t0)))
        }
        try ctx.checkCancelled()

        // `split: "top_level"`: every top-level package or module becomes its own repository
        // (`NAME/json`, `NAME/asyncio`, …), so that a single tree like the standard library can be
        // split and grouped by repository for training and probes.
        let perTopLevel = ctx.params["split"]?.stringValue == "top_level"
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
        return [
            "repo": .string(name), "path": .string(root.path), "files": .number(Double(scan.files.count)),
            "functions": .number(Double(scan.functions.count)), "skipped_files": .number(Double(scan.failures.count)),
            "created": .number(Double(created)), "updated": .number(Double(updated)), "unchanged": .number(Double(unchanged)),
            "removed": .number(Double(removed)), "history": .bool(history != nil),
            "commits": history.map { .number(Double($0.commitCount)) } ?? .null, "seconds": .number(seconds),
        ]
    }

    /// The store's view of an extracted function: properties as snake_case JSON, history counts included.
    static func input(_ f: PythonFunction, repo: String, history: RepositoryHistory?, index: Int) -> FunctionInput {
        let p = f.properties
        var props: [String: JSONValue] = [
            "loc": .number(Double(p.loc)), "cyclomatic_complexity": .number(Double(p.cyclomaticComplexity)),
            "n_branches": .number(Double(p.branches)), "n_loops": .number(Double(p.loops)),
            "n_returns": .number(Double(p.returns)), "n_args": .number(Double(p.arguments)),
            "n_api_calls": .number(Double(p.apiCalls)), "return_category": .string(p.returnAnnotation.rawValue),
            "has_docstring": .bool(p.hasDocstring), "has_decorators": .bool(p.hasDecorators),
            "is_method": .bool(p.isMethod), "is_async": .bool(p.isAsync),
            "def_line": .number(Double(f.defLine)), "start_byte": .number(Double(f.startByte)),
            "end_byte": .number(Double(f.endByte)), "body_start_byte": .number(Double(f.bodyStartByte)),
        ]
        if let h = history {
            props["commits"] = .number(Double(h.functions[index].commits))
            props["authors"] = .number(Double(h.functions[index].authors))
            props["file_commits"] = .number(Double(h.fileCommits[f.path] ?? 0))
        }
        return FunctionInput(repo: repo, path: f.path, qualifiedName: f.key, language: "python",
                             startLine: f.startLine, endLine: f.endLine, signature: f.signature, body: f.body,
                             properties: .object(props), contentHash: f.contentHash, bodyHash: f.bodyHash)
    }
}

/// Forwards progress from compute threads to the job at most a few times a second.
final class ThrottledProgress: @unchecked Sendable {
    let ctx: JobContext
    let offset: Double
    let scale: Double
    let label: String
    private let lock = NSLock()
    private var last = Date.distantPast

    init(ctx: JobContext, offset: Double = 0, scale: Double, label: String) {
        self.ctx = ctx; self.offset = offset; self.scale = scale; self.label = label
    }

    func report(_ fraction: Double, _ message: String) {
        lock.lock()
        let now = Date()
        guard now.timeIntervalSince(last) > 0.25 || fraction >= 1 else { lock.unlock(); return }
        last = now
        lock.unlock()
        let ctx = self.ctx, value = offset + scale * fraction
        Task { await ctx.progress(value, message) }
    }
}
