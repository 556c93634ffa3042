import ArgumentParser
import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Options for commands that talk to a running server.
struct ServerOptions: ParsableArguments {
    @Option(help: "Server URL.") var server: String = ProcessInfo.processInfo.environment["SWEJEPA_SERVER"] ?? "http://127.0.0.1:8080"
    @Option(help: "Bearer token (visible in `ps`: prefer --token-file or SWEJEPA_TOKEN).") var token: String?
    @Option(help: "File whose first line is the bearer token (else SWEJEPA_TOKEN, else --token).") var tokenFile: String?

    var client: APIClient {
        get throws { APIClient(base: server, token: try TokenSource.resolve(flag: token, file: tokenFile)) }
    }
}

/// A small JSON client for the CLI; server errors become readable messages.
struct APIClient: Sendable {
    var base: String
    var token: String?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func request(_ method: String, _ path: String, json: JSONValue? = nil) async throws -> JSONValue {
        try await request(method, path, body: json.map { Data($0.jsonString().utf8) })
    }

    /// Sends `body` (JSON) and returns the JSON answer.
    func request(_ method: String, _ path: String, body: Data?) async throws -> JSONValue {
        guard let url = URL(string: base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path) else {
            throw Failure(description: "bad server URL \(base)")
        }
        var req = URLRequest(url: url)
        req.httpMethod = method
        req.timeoutInterval = 600
        if let body {
            req.httpBody = body
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: req)
        } catch {
            throw Failure(description: "cannot reach \(base) (\(error.localizedDescription)); is `swejepa serve` running?")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let body = JSONValue.parse(String(decoding: data, as: UTF8.self)) ?? .null
        guard (200..<300).contains(status) else {
            let code = body["error"]?["code"]?.stringValue ?? "http_\(status)"
            let message = body["error"]?["message"]?.stringValue ?? String(decoding: data.prefix(300), as: UTF8.self)
            throw Failure(description: "\(status) \(code): \(message)")
        }
        return body
    }

    /// Submits a job and follows it to the end with a progress display; returns the final job.
    func runJob(_ params: JSONValue, wait: Bool = true) async throws -> JSONValue {
        let job = try await request("POST", "/v1/jobs", json: params)
        let id = job["id"]?.intValue ?? 0
        guard wait else {
            Console.line("job \(id) queued (\(params["type"]?.stringValue ?? "?")); follow it with `swejepa jobs watch \(id)`")
            return job
        }
        return try await follow(job: id)
    }

    /// Polls a job, drawing progress, until it ends; throws when it failed or was cancelled.
    func follow(job id: Int) async throws -> JSONValue {
        let bar = ProgressDisplay(label: "job \(id)")
        var last = JSONValue.null
        var state: JobState?
        while true {
            last = try await request("GET", "/v1/jobs/\(id)")
            state = last["state"]?.stringValue.flatMap(JobState.init(rawValue:))
            bar.update(fraction: last["progress"]?.doubleValue ?? 0, message: "\(state?.rawValue ?? "?") \(last["message"]?.stringValue ?? "")")
            if state?.isFinal == true { break }
            try await Task.sleep(nanoseconds: 500_000_000)
        }
        bar.finish()
        if let state, state != .succeeded {
            throw Failure(description: "job \(id) \(state.rawValue)\(last["error"]?.stringValue.map { ": " + $0 } ?? "")")
        }
        return last
    }
}

/// Pretty JSON for command output.
func pretty(_ value: JSONValue) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? value.jsonString()
}
