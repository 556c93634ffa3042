import Foundation

/// A throw-away git repository driven by the real `git` CLI (no user or system configuration),
/// in a temporary directory that goes away with the object.
public final class ScratchRepo {
    public let root: URL

    public init() throws {
        root = try makeTemporaryDirectory("scratch-git").appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try git(["init", "-q", "-b", "main"])
    }

    deinit { removeTemporaryDirectory(root.deletingLastPathComponent()) }

    @discardableResult
    public func git(_ args: [String], author: String = "Alice") throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", root.path] + args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in ["GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "\(author.lowercased())@example.com",
                       "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": "\(author.lowercased())@example.com",
                       "GIT_CONFIG_NOSYSTEM": "1", "HOME": root.path, "LC_ALL": "C"] { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey:
                "git \(args.joined(separator: " ")): exit \(p.terminationStatus): \(String(decoding: errData, as: UTF8.self))"])
        }
        return String(decoding: data, as: UTF8.self)
    }

    public func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    public func commit(_ message: String, author: String) throws {
        try git(["add", "-A"], author: author)
        try git(["commit", "-q", "-m", message], author: author)
    }

    /// The independent reference: what `git log -L START,END:PATH` lists (commits, distinct author names).
    public func logL(path: String, start: Int, end: Int) throws -> (commits: Int, authors: Int) {
        let out = try git(["log", "-L\(start),\(end):\(path)", "-s", "--format=%x01%H%x09%an"])
        let rows = out.split(separator: "\n").filter { $0.hasPrefix("\u{1}") }
        return (rows.count, Set(rows.map { $0.split(separator: "\t").last.map(String.init) ?? "" }).count)
    }

    /// Non-merge commits that changed `path`, following renames (`git log --follow`).
    public func fileCommits(_ path: String) throws -> Int {
        try git(["log", "--full-history", "--no-merges", "--follow", "--format=%H", "--", path])
            .split(separator: "\n").count
    }
}
