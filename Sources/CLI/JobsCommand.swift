import ArgumentParser
import Core
import Foundation

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List, inspect, follow and cancel background jobs on a running server.",
        subcommands: [List.self, Show.self, Watch.self, Cancel.self, Submit.self],
        defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent jobs, newest first.")
        @OptionGroup var server: ServerOptions
        @Option(help: "Only this state (queued, running, succeeded, failed, cancelled).") var state: JobState?
        @Option(help: "Only this job type.") var type: String?
        func run() async throws {
            var q = "/v1/jobs?limit=50"
            if let state { q += "&state=\(state.rawValue)" }
            if let type { q += "&type=\(type)" }
            let jobs = try await server.client.request("GET", q)["jobs"]?.arrayValue ?? []
            func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
                s.count >= n ? s : (right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
            }
            Console.line("\(pad("id", 6, right: true))  \(pad("type", 12)) \(pad("state", 10)) \(pad("done", 5, right: true))  message")
            for j in jobs {
                let done = String(format: "%.0f%%", (j["progress"]?.doubleValue ?? 0) * 100)
                Console.line("\(pad(String(j["id"]?.intValue ?? 0), 6, right: true))  \(pad(j["type"]?.stringValue ?? "", 12)) "
                             + "\(pad(j["state"]?.stringValue ?? "", 10)) \(pad(done, 5, right: true))  "
                             + (j["error"]?.stringValue ?? j["message"]?.stringValue ?? ""))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A job's record, result and last log lines.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job id.") var id: Int
        func run() async throws {
            let c = try server.client
            Console.line(pretty(try await c.request("GET", "/v1/jobs/\(id)")))
            for log in try await c.request("GET", "/v1/jobs/\(id)/logs?limit=50")["logs"]?.arrayValue ?? [] {
                Console.line("\(log["level"]?.stringValue ?? "") \(log["message"]?.stringValue ?? "")")
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Follow a job with a progress bar until it ends.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job id.") var id: Int
        func run() async throws {
            let job = try await server.client.follow(job: id)
            if let r = job["result"] { Console.line(pretty(r)) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job (a running one stops within a second or one batch).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job id.") var id: Int
        func run() async throws {
            let job = try await server.client.request("POST", "/v1/jobs/\(id)/cancel")
            Console.line("job \(id): \(job["state"]?.stringValue ?? "?")\(job["cancel_requested"] == .bool(true) ? " (cancel requested)" : "")")
        }
    }

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit any job type with JSON params and follow it.",
            discussion: "Example: swejepa jobs submit sleep '{\"seconds\": 3}'")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Job type.") var type: String
        @Argument(help: "Params as a JSON object.") var params: String = "{}"
        @Flag(help: "Return after queueing instead of following the job.") var noWait = false
        func run() async throws {
            guard case .object(var fields)? = JSONValue.parse(params) else { throw ValidationError("params must be a JSON object") }
            fields["type"] = .string(type)
            try await server.runJob(.object(fields), noWait: noWait)
        }
    }
}

extension JobState: ExpressibleByArgument {}
