import ArgumentParser
import Core
import Foundation

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ingest a directory of Python code (functions, static properties, git history) into a running server.",
        discussion: """
            Walks PATH (skipping .git, virtualenvs, site-packages, build outputs and what .gitignore ignores), \
            extracts every def / async def with its signature/body split and static properties and, for a git \
            repository, per-function commit and author counts. Re-ingesting is incremental. \
            PATH is read by the server, so it must exist on the server's machine.

            Example:
              swejepa ingest ~/src/requests --repo requests
            """)

    @OptionGroup var server: ServerOptions
    @Argument(help: "Directory to ingest.") var path: String
    @Option(help: "Repository name (default: the directory's name).") var repo: String?
    @Flag(help: "Skip git history.") var noHistory = false
    @Option(help: "Directory names never entered (comma-separated), e.g. test,tests.") var skipDirs: String?
    @Flag(help: "Make every top-level package or module its own repository (NAME/pkg), e.g. for the standard library.") var splitTopLevel = false
    @Flag(help: "Return after queueing instead of following the job.") var noWait = false

    func run() async throws {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var params: [String: JSONValue] = ["path": .string(absolute), "history": .bool(!noHistory)]
        if let repo { params["name"] = .string(repo) }
        if splitTopLevel { params["split"] = "top_level" }
        if let skipDirs { params["skip_dirs"] = .array(skipDirs.split(separator: ",").map { .string(String($0)) }) }
        let c = server.client
        let job = try await c.request("POST", "/v1/repos", json: .object(params))
        let id = job["id"]?.intValue ?? 0
        if noWait { Console.line("ingest job \(id) queued"); return }
        let done = try await c.follow(job: id)
        if let r = done["result"] { Console.line(pretty(r)) }
    }
}
