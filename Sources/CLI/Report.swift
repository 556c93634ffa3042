import ArgumentParser
import Core
import Foundation

/// `swejepa report`: what a store holds, in the terminal — the probe results, the student
/// leaderboard, and one function with its nearest neighbours and their code.
///
/// ```
/// $ swejepa report --space all-MiniLM-L6-v2.L3.body_mean
/// ```
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print the probe results, the student leaderboard and one nearest-neighbour example with code.",
        discussion: """
            Reads a running server: GET /v1/probes (every stored probe result), the succeeded train jobs
            (GET /v1/jobs?type=train&state=succeeded: test Rank@1, Rank@10 and MRR of each student, best MRR
            first, with the random and signature-mean baselines measured by the same job), and the nearest
            neighbours of one function in --space (POST /v1/spaces/{name}/search), code shown. The function is
            --function (an id or REPO:PATH:QUALIFIED_NAME), or else the first of the space's functions whose
            body has 4 to 12 lines. The dashboard (/) shows the same, and more.

            Examples:
              swejepa report
              swejepa report --space all-MiniLM-L6-v2.L3.body_mean --function stdlib/json:json/decoder.py:py_scanstring
            """)

    @OptionGroup var server: ServerOptions
    @Option(help: "Space of the nearest-neighbour example (default: the target space of the best student, else the first body_mean space).")
    var space: String?
    @Option(help: "Function of the example: an id or REPO:PATH:QUALIFIED_NAME.") var function: String?
    @Option(name: .customShort("k"), help: "Neighbours shown (1...20).") var k: Int = 3

    func validate() throws {
        guard (1...20).contains(k) else { throw ValidationError("-k must be between 1 and 20") }
    }

    func run() async throws {
        let client = try server.client
        let probes = try await client.request("GET", "/v1/probes")["probes"]?.arrayValue ?? []
        Console.line("== probes (\(probes.count) results)")
        Console.line(ReportTables.probes(probes))
        let jobs = try await client.request("GET", "/v1/jobs?type=train&state=succeeded&limit=1000")["jobs"]?.arrayValue ?? []
        let board = ReportTables.leaderboardRows(jobs)
        Console.line("")
        Console.line("== students (\(board.count) succeeded train jobs, best test MRR first)")
        Console.line(ReportTables.leaderboard(board))

        let spaces = try await client.request("GET", "/v1/spaces")["spaces"]?.arrayValue ?? []
        let names = Set(spaces.compactMap { $0["name"]?.stringValue })
        let chosen = space
            ?? board.first.flatMap { $0["result"]?["target_space"]?.stringValue }.flatMap { names.contains($0) ? $0 : nil }
            ?? spaces.first { $0["kind"]?.stringValue == "body_mean" && ($0["count"]?.intValue ?? 0) > 0 }?["name"]?.stringValue
        Console.line("")
        guard let chosen else {
            Console.line("== nearest neighbours: no body_mean space with vectors yet")
            return
        }
        let id: Int64
        if let function {
            id = try await SearchCommand.resolve(function, client: client)
        } else if let found = try await Self.exampleFunction(client: client, space: chosen) {
            id = found
        } else {
            Console.line("== nearest neighbours in \(chosen): no function with a 4–12 line body")
            return
        }
        let query = try await client.request("GET", "/v1/functions/\(id)")
        let answer = try await client.request("POST", "/v1/spaces/\(SearchCommand.escape(chosen))/search",
                                              json: .object(["function_ids": [.number(Double(id))], "k": .number(Double(k))]))
        let hits = answer["results"]?.arrayValue?.first?["hits"]?.arrayValue ?? []
        var records = [JSONValue]()
        for hit in hits { records.append(try await client.request("GET", "/v1/functions/\(hit["id"]?.intValue ?? 0)")) }
        Console.line("== nearest neighbours in \(chosen) of \(query["repo"]?.stringValue ?? "?"):\(query["path"]?.stringValue ?? "?"):\(query["qualified_name"]?.stringValue ?? "?") (id \(id))")
        Console.line(ReportTables.code(query))
        Console.line("")
        Console.line(SearchTable.render(hits: hits, functions: records, showCode: true))
    }

    /// The first function (by id, one page) with vectors in `space` whose body has 4 to 12 lines.
    static func exampleFunction(client: APIClient, space: String) async throws -> Int64? {
        let page = try await client.request("GET", "/v1/functions?limit=500")["functions"]?.arrayValue ?? []
        for f in page {
            guard let id = f["id"]?.intValue else { continue }
            let full = try await client.request("GET", "/v1/functions/\(id)")
            let lines = (full["body"]?.stringValue ?? "").split(separator: "\n").count
            guard (4...12).contains(lines) else { continue }
            let probe = try? await client.request("POST", "/v1/spaces/\(SearchCommand.escape(space))/search",
                                                  json: .object(["function_ids": [.number(Double(id))], "k": 1]))
            if probe != nil { return Int64(id) }
        }
        return nil
    }
}

/// The text tables of `swejepa report`.
enum ReportTables {
    static func probes(_ rows: [JSONValue]) -> String {
        guard !rows.isEmpty else { return "no probe results yet (swejepa probe --space …)" }
        var out = [ProbeTable.pad(["target", "metric", "probe", "shuffled labels", "trivial feature", "n"]) + "space"]
        for r in rows {
            let controls = r["result"]?["controls"]
            out.append(ProbeTable.pad([r["target"]?.stringValue ?? "?", r["metric"]?.stringValue ?? "?", ProbeTable.scores(r),
                                       ProbeTable.scores(controls?["shuffled"]), ProbeTable.scores(controls?["trivial"]),
                                       "\(r["result"]?["n"]?.intValue ?? 0)"]) + (r["space"]?.stringValue ?? "?"))
        }
        return out.joined(separator: "\n")
    }

    /// Succeeded train jobs with test metrics, best test MRR first (ties: newer first).
    static func leaderboardRows(_ jobs: [JSONValue]) -> [JSONValue] {
        jobs.filter { $0["result"]?["test"]?["mrr"]?.doubleValue != nil }.sorted {
            let a = $0["result"]?["test"]?["mrr"]?.doubleValue ?? 0, b = $1["result"]?["test"]?["mrr"]?.doubleValue ?? 0
            return a != b ? a > b : ($0["id"]?.intValue ?? 0) > ($1["id"]?.intValue ?? 0)
        }
    }

    static func leaderboard(_ jobs: [JSONValue]) -> String {
        guard !jobs.isEmpty else { return "no trained students yet (swejepa train …)" }
        func f(_ v: JSONValue?) -> String { v?.doubleValue.map { String(format: "%.3f", $0) } ?? "-" }
        var rows = [["job", "model", "loss", "input → target", "epochs", "Rank@1", "Rank@10", "MRR", "random R@10", "sig_mean R@10"]]
        for j in jobs {
            let r = j["result"], model = r?["config"]?["model"]
            let input = (r?["input_space"]?.stringValue ?? "?").split(separator: ".").suffix(1).joined()
            let target = (r?["target_space"]?.stringValue ?? "?").split(separator: ".").suffix(1).joined()
            rows.append(["\(j["id"]?.intValue ?? 0)", model?["kind"]?.stringValue ?? "?", model?["loss"]?.stringValue ?? "?",
                         "\(input) → \(target)", "\(r?["epochs"]?.arrayValue?.count ?? 0)",
                         f(r?["test"]?["rank1"]), f(r?["test"]?["rank10"]), f(r?["test"]?["mrr"]),
                         f(r?["random_baseline"]?["rank10"]), f(r?["signature_mean_baseline"]?["rank10"])])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            var line = zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// A function's code, the signature lines marked `▸`, the body `│`.
    static func code(_ f: JSONValue) -> String {
        var out = [String]()
        for line in (f["signature"]?.stringValue ?? "").split(separator: "\n", omittingEmptySubsequences: false) { out.append("    ▸ " + line) }
        var body = f["body"]?.stringValue ?? ""
        while body.hasSuffix("\n") { body.removeLast() }
        for line in body.split(separator: "\n", omittingEmptySubsequences: false) { out.append("    │ " + line) }
        return out.joined(separator: "\n")
    }
}
