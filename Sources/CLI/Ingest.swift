import ArgumentParser
import Core
import Foundation
import Jobs
import Services
import Store

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ingest a directory of Python code (functions, static properties, git history) into a running server.",
        discussion: """
            Walks PATH (skipping .git, virtualenvs, site-packages, build outputs and what .gitignore ignores), \
            extracts every def / async def with its signature/body split and static properties and, for a git \
            repository, per-function commit and author counts. PATH is read here, on this machine, and each \
            repository's functions are uploaded in one request (PUT /v1/repos/snapshot), so the server \
            needs no access to PATH. Re-ingesting is incremental: unchanged functions keep their rows and \
            embeddings, changed ones get stale embeddings, vanished ones are removed. With --on-server, the \
            server reads PATH itself instead (an ingest job; PATH must lie under one of its --ingest-root \
            directories).

            Example:
              swejepa ingest ~/src/requests --repo requests
            """)

    @OptionGroup var server: ServerOptions
    @Argument(help: "Directory to ingest.") var path: String
    @Option(help: "Repository name (default: the directory's name).") var repo: String?
    @Flag(help: "Skip git history.") var noHistory = false
    @Option(help: "Directory names never entered (comma-separated), e.g. test,tests.") var skipDirs: String?
    @Flag(help: "Make every top-level package or module its own repository (NAME/pkg), e.g. for the standard library.") var splitTopLevel = false
    @Flag(help: "Let the server read PATH (an ingest job; PATH must be under one of its --ingest-root directories).") var onServer = false
    @Flag(help: "With --on-server: return after queueing instead of following the job.") var noWait = false

    var skipList: [String] { skipDirs.map { $0.split(separator: ",").map(String.init) } ?? [] }

    func run() async throws {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL
        let c = try server.client
        if onServer {
            var params: [String: JSONValue] = ["path": .string(absolute.path), "history": .bool(!noHistory)]
            if let repo { params["name"] = .string(repo) }
            if splitTopLevel { params["split"] = "top_level" }
            if !skipList.isEmpty { params["skip_dirs"] = .array(skipList.map { .string($0) }) }
            let job = try await c.request("POST", "/v1/repos", json: .object(params))
            let id = job["id"]?.intValue ?? 0
            if noWait { Console.line("ingest job \(id) queued"); return }
            let done = try await c.follow(job: id)
            if let r = done["result"] { Console.line(pretty(r)) }
            return
        }
        _ = try await c.request("GET", "/healthz")  // a server that is down is named before the tree is read
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute.path, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("\(path) is not a directory")
        }
        Console.line(pretty(try await uploadLocally(root: absolute, client: c)))
    }

    /// Extracts here (as the ingest job would on the server) and uploads one snapshot per repository.
    func uploadLocally(root: URL, client c: APIClient) async throws -> JSONValue {
        let started = Date()
        let bar = ProgressDisplay(label: "ingest")
        bar.update(fraction: 0, message: "scanning")
        let latest = LatestProgress()
        let (name, history, skip, split) = (repo, !noHistory, skipList, splitTopLevel ? IngestJob.Split.topLevel : .none)
        let extraction = Task {
            defer { latest.finish() }
            return try await Compute.run {
                try IngestJob.extract(root: root, name: name, history: history, skipDirs: skip, split: split,
                                      progress: { latest.set($0, $1) })
            }
        }
        while !latest.isFinished {
            if let (f, m) = latest.take() { bar.update(fraction: 0.5 * f, message: m) }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let ex = try await extraction.value
        for s in ex.skipped { Console.error("skipped \(s.path): \(s.reason)") }

        var created = 0, updated = 0, unchanged = 0, removed = 0, sent = 0
        let byRepo = Dictionary(grouping: ex.functions, by: \.repo)
        var uploads = ex.repositories.map { (name: $0.name, path: Optional($0.path)) }
        uploads += ex.pruned.filter { n in !uploads.contains { $0.name == n } }.map { (name: $0, path: nil) }
        for u in uploads {
            struct Snapshot: Encodable { var name: String; var path: String?; var functions: [FunctionInput] }
            let functions = byRepo[u.name] ?? []
            let body = try JSONEncoder().encode(Snapshot(name: u.name, path: u.path, functions: functions))
            let r = try await c.request("PUT", "/v1/repos/snapshot", body: body)
            created += r["created"]?.intValue ?? 0; updated += r["updated"]?.intValue ?? 0
            unchanged += r["unchanged"]?.intValue ?? 0; removed += r["removed"]?.intValue ?? 0
            sent += functions.count
            bar.update(fraction: 0.5 + 0.5 * Double(sent) / Double(max(1, ex.functions.count)), message: "stored \(sent)/\(ex.functions.count) functions")
        }
        bar.update(fraction: 1, message: "stored")
        bar.finish()
        func n(_ i: Int) -> JSONValue { .number(Double(i)) }
        return .object([
            "repo": .string(ex.name), "path": .string(root.path), "files": n(ex.files), "functions": n(ex.functions.count),
            "skipped_files": n(ex.skipped.count), "created": n(created), "updated": n(updated), "unchanged": n(unchanged),
            "removed": n(removed), "history": .bool(ex.commits != nil), "commits": ex.commits.map(n) ?? .null,
            "seconds": .number(Date().timeIntervalSince(started)),
        ])
    }
}

/// The latest progress a compute thread reported, for the task drawing the bar.
private final class LatestProgress: Sendable {
    private let state = Mutex<(value: (Double, String)?, finished: Bool)>((nil, false))
    func set(_ fraction: Double, _ message: String) { state.withLock { $0.value = (fraction, message) } }
    func take() -> (Double, String)? { state.withLock { s in defer { s.value = nil }; return s.value } }
    func finish() { state.withLock { $0.finished = true } }
    var isFinished: Bool { state.withLock { $0.finished } }
}
