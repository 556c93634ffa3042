import ArgumentParser
import Core
import Foundation

/// `swejepa search`: nearest functions in a space for a piece of code (embedded by the server as the
/// space's vectors were made) or for a stored function, as a table or JSON.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Nearest functions in a space for a piece of code, a file or a stored function (on a running server).",
        discussion: """
            A text (the argument, or --file) is embedded by the server exactly as the space's vectors were \
            made: a teacher space (MODEL.L<layer>.sig_mean, body_mean, body_only_mean from an embed job) runs \
            its model and layer on the text (a whole function is split into signature and body as ingest splits \
            it), a student space runs the text's signature through its student. Spaces filled by uploading \
            vectors cannot be searched by text (422 space_not_embeddable). --function searches with a stored \
            function's own vector instead: its id, or REPO:PATH:QUALIFIED_NAME.

            Prints one row per hit: score, repository, path:line, qualified name and the `def` line of the \
            signature; --show-code adds each hit's code, --json prints the server's answer.

            Examples:
              swejepa search --space all-MiniLM-L6-v2.L3.sig_mean "def read_json(path):"
              swejepa search --space all-MiniLM-L6-v2.L3.body_mean --file snippet.py -k 5 --show-code
              swejepa search --space all-MiniLM-L6-v2.L3.body_mean --function requests:src/requests/utils.py:to_key_val_list --exclude-same-repo
            """)

    @OptionGroup var server: ServerOptions
    @Option(help: "Space to search (e.g. all-MiniLM-L6-v2.L3.body_mean).") var space: String
    @Argument(help: "Code to search by: a signature, a whole function or any snippet.") var text: String?
    @Option(help: "Read the code to search by from this file.") var file: String?
    @Option(help: "Search by a stored function's vector: its id, or REPO:PATH:QUALIFIED_NAME.") var function: String?
    @Option(name: .customShort("k"), help: "Hits to show (1...1000).") var k: Int = 10
    @Option(help: "Only hits of these repositories (comma-separated).") var repos: String?
    @Flag(help: "Leave out hits of the query function's own repository (--function only).") var excludeSameRepo = false
    @Flag(help: "Print each hit's code (signature and body) under its row.") var showCode = false
    @Flag(help: "Print the server's answer as JSON.") var json = false

    func validate() throws {
        guard [text != nil, file != nil, function != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of a text argument, --file or --function")
        }
        guard (1...1000).contains(k) else { throw ValidationError("-k must be in 1...1000") }
        if excludeSameRepo, function == nil {
            throw ValidationError("--exclude-same-repo needs --function (a text has no repository)")
        }
    }

    func run() async throws {
        let client = try server.client
        var body: [String: JSONValue] = ["k": .number(Double(k))]
        if let function {
            body["function_ids"] = [.number(Double(try await Self.resolve(function, client: client)))]
            body["exclude_same_repo"] = .bool(excludeSameRepo)
        } else {
            let query: String
            if let file {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                query = String(decoding: data, as: UTF8.self)
            } else {
                query = text ?? ""
            }
            body["texts"] = [.string(query)]
        }
        if let repos { body["repos"] = ListOption.strings(repos) }
        let answer = try await client.request("POST", "/v1/spaces/\(Self.escape(space))/search", json: .object(body))
        if json { Console.line(pretty(answer)); return }
        let hits = answer["results"]?.arrayValue?.first?["hits"]?.arrayValue ?? []
        // Lines and bodies are not in search hits: one GET per hit (k is small).
        var records = [JSONValue]()
        for hit in hits { records.append(try await client.request("GET", "/v1/functions/\(hit["id"]?.intValue ?? 0)")) }
        Console.line(SearchTable.render(hits: hits, functions: records, showCode: showCode))
    }

    /// A function given as an id, or as REPO:PATH:QUALIFIED_NAME (looked up on the server; the last two
    /// `:` split it, so a repository name may hold one).
    static func resolve(_ spec: String, client: APIClient) async throws -> Int64 {
        if let id = Int64(spec) { return id }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3 else { throw ValidationError("--function takes an id or REPO:PATH:QUALIFIED_NAME, got '\(spec)'") }
        let name = parts[parts.count - 1], path = parts[parts.count - 2], repo = parts.dropLast(2).joined(separator: ":")
        let page = try await client.request("GET", "/v1/functions?repo=\(escape(repo))&path=\(escape(path))&q=\(escape(name))&limit=1000")
        let match = page["functions"]?.arrayValue?.first {
            $0["path"]?.stringValue == path && $0["qualified_name"]?.stringValue == name
        }
        guard let id = match?["id"]?.intValue else {
            throw APIClient.Failure(description: "no function \(name) in \(path) of repository \(repo)")
        }
        return Int64(id)
    }

    /// Percent-encodes a path segment or query value.
    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}

/// The table `swejepa search` prints.
///
/// ```
/// score   repo  location  name      signature
/// 1.0000  demo  a.py:1    add       def add(a, b):
/// ```
enum SearchTable {
    static func render(hits: [JSONValue], functions: [JSONValue], showCode: Bool) -> String {
        guard !hits.isEmpty else { return "no hits" }
        var rows = [["score", "repo", "location", "name", "signature"]]
        for (hit, f) in zip(hits, functions) {
            let sig = f["signature"]?.stringValue ?? hit["signature"]?.stringValue ?? ""
            let lines = sig.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            let def = lines.first { $0.hasPrefix("def ") || $0.hasPrefix("async def ") } ?? lines.first ?? ""
            rows.append([String(format: "%.4f", hit["score"]?.doubleValue ?? .nan), f["repo"]?.stringValue ?? "",
                         "\(f["path"]?.stringValue ?? ""):\(f["start_line"]?.intValue ?? 0)",
                         f["qualified_name"]?.stringValue ?? "", def.count > 100 ? String(def.prefix(99)) + "…" : def])
        }
        let widths = (0..<4).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var out = [String]()
        for (i, row) in rows.enumerated() {
            out.append((0..<4).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                       + "  " + row[4])
            if showCode, i > 0 {
                let f = functions[i - 1]
                var code = (f["signature"]?.stringValue ?? "") + "\n" + (f["body"]?.stringValue ?? "")
                while code.hasSuffix("\n") { code.removeLast() }
                out.append(code.split(separator: "\n", omittingEmptySubsequences: false).map { "    │ " + $0 }.joined(separator: "\n"))
                out.append("")
            }
        }
        return out.joined(separator: "\n")
    }
}
