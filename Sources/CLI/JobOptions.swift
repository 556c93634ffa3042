import ArgumentParser
import Core
import Foundation

extension ServerOptions {
    /// Submits a job and follows it (unless `noWait`), then prints its result: as `render` makes it,
    /// or whole as pretty JSON when `json` is set or there is no `render`.
    func runJob(_ params: JSONValue, noWait: Bool, json: Bool = true, render: ((JSONValue) -> String)? = nil) async throws {
        let job = try await client.runJob(params, wait: !noWait)
        guard let r = job["result"] else { return }
        if let render, !json { Console.line(render(r)) } else { Console.line(pretty(r)) }
    }
}

/// Parsing of the list options the job commands share.
enum ListOption {
    /// `"a, b,c"` → `["a", "b", "c"]` (each item trimmed).
    static func strings(_ text: String) -> JSONValue {
        .array(text.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
    }

    /// `--layers`: `"all"`, or comma-separated layer numbers.
    static func layers(_ text: String) throws -> JSONValue {
        if text == "all" { return "all" }
        return .array(try text.split(separator: ",").map { part in
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--layers takes numbers or 'all'") }
            return .number(Double(n))
        })
    }
}
