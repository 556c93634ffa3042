import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
@testable import Jobs
@testable import Server
import Store

/// `GET /`: the dashboard page is served as HTML, and every API call its JavaScript makes — found
/// by a regex over the served page, and required to equal the list below, so a new call cannot go
/// untested — answers 2xx JSON with the fields the page reads, on a real server (SQLite, FAISS
/// search, a job runner) holding functions, a space with vectors, a finished and a running job.
@Suite struct DashboardTests {
    /// Every call of the page as "METHOD path", `{}` where the script inserts a value.
    static let pageCalls: Set<String> = [
        "GET /v1/stats", "GET /v1/spaces", "GET /v1/jobs?limit=30",
        "GET /v1/jobs/{}", "GET /v1/jobs/{}/metrics", "GET /v1/jobs/{}/logs?limit=200",
        "POST /v1/jobs/{}/cancel", "POST /v1/spaces/{}/search",
    ]

    /// A real server with a job runner and search (`LiveServer` with `jobs:`), called without the
    /// contract check (the page's calls are checked here for what the page reads).
    final class Service: @unchecked Sendable {
        let live: LiveServer
        var base: String { live.base }
        init(_ backend: Backend) async throws { live = try await LiveServer(backend, jobs: .init()) }

        func stop() async { await live.stop() }

        func call(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> (status: Int, type: String, body: Data) {
            var req = URLRequest(url: URL(string: base + path)!)
            req.httpMethod = method
            if let body {
                req.httpBody = Data(body.jsonString().utf8)
                req.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            let (data, resp) = try await URLSession.shared.data(for: req)
            let http = resp as! HTTPURLResponse
            return (http.statusCode, http.value(forHTTPHeaderField: "Content-Type") ?? "", data)
        }
    }

    /// The page's calls: `fetch(…)`, `get(…)` (its fetch-and-parse helper) and `EventSource(…)` with a
    /// literal first argument ('…', "…", `…` with ${…}, or '…'+name), and fetch's `method:` option.
    /// Calls with a bare variable argument are returned separately (only the helper itself has one).
    static func calls(in html: String) -> (calls: Set<String>, bare: [String], total: Int) {
        let pattern = #"\b(fetch|get|EventSource)\((`[^`]*`|'[^']*'(?:\+[\w.]+)?|"[^"]*"(?:\+[\w.]+)?|[A-Za-z_]\w*)(\s*,\s*\{\s*method\s*:\s*'(\w+)')?"#
        let re = try! NSRegularExpression(pattern: pattern)
        let ns = html as NSString
        var calls = Set<String>(), bare = [String]()
        let matches = re.matches(in: html, range: NSRange(location: 0, length: ns.length))
        for m in matches {
            let fn = ns.substring(with: m.range(at: 1))
            var arg = ns.substring(with: m.range(at: 2))
            guard let quote = arg.first, "'\"`".contains(quote) else { bare.append("\(fn)(\(arg))"); continue }
            if let plus = arg.range(of: "+", options: .backwards), arg[arg.index(before: plus.lowerBound)] == quote {
                arg = String(String(arg[..<plus.lowerBound]).dropFirst().dropLast()) + "{}"
            } else {
                arg = String(arg.dropFirst().dropLast())
            }
            arg = arg.replacingOccurrences(of: #"\$\{[^}]*\}"#, with: "{}", options: .regularExpression)
            let method = m.range(at: 4).location != NSNotFound ? ns.substring(with: m.range(at: 4)) : "GET"
            calls.insert("\(method) \(arg)")
        }
        let total = try! NSRegularExpression(pattern: #"\b(fetch|get|EventSource)\("#).numberOfMatches(in: html, range: NSRange(location: 0, length: ns.length))
        return (calls, bare, total)
    }

    @Test(arguments: Backend.all) func thePageIsServedAndEveryCallItMakesAnswersJSON(_ backend: Backend) async throws {
        let s = try await Service(backend)
        defer { Task { await s.stop() } }
        // Some data: functions, a space with vectors, a finished job with metrics and logs, a running one.
        let ids = (JSONValue.parse(String(decoding: try await s.call("POST", "/v1/functions", sampleFunctions).body, as: UTF8.self))?["ids"]?
            .arrayValue ?? []).compactMap(\.intValue)
        try #require(ids.count == 3)
        #expect(try await s.call("POST", "/v1/spaces", ["name": "sp", "kind": "body_mean", "dim": 3]).status == 201)
        #expect(try await s.call("PUT", "/v1/spaces/sp/vectors", ["ids": .array(ids.map { .number(Double($0)) }),
                                                                 "vectors": [[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0]]]).status == 200)
        func submit(_ body: JSONValue) async throws -> Int {
            try #require(JSONValue.parse(String(decoding: try await s.call("POST", "/v1/jobs", body).body, as: UTF8.self))?["id"]?.intValue)
        }
        let done = try await submit(["type": "sleep", "seconds": 0.2, "steps": 2])
        #expect(try await eventually {
            JSONValue.parse(String(decoding: try await s.call("GET", "/v1/jobs/\(done)").body, as: UTF8.self))?["state"] == "succeeded"
        })
        let running = try await submit(["type": "sleep", "seconds": 600, "steps": 6000])

        let page = try await s.call("GET", "/")
        #expect(page.status == 200 && page.type.hasPrefix("text/html"))
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.hasPrefix("<!doctype html>") && html.contains("</html>"))

        let found = Self.calls(in: html)
        #expect(found.calls == Self.pageCalls, "the page's calls changed: \(found.calls.sorted())")
        // Every fetch/get/EventSource in the page was understood: literal URLs, plus the helper's fetch(p)
        // and its own definition get(p).
        #expect(found.bare.sorted() == ["fetch(p)", "get(p)"])
        #expect(found.total == found.calls.count + found.bare.count, "a call the regex did not read, or one made twice")
        // The search call's body is the one sent below.
        #expect(html.contains("function_ids:[id],k,exclude_self:true,exclude_same_repo:"))

        // Each call, with the values the page would insert, answers 2xx JSON with what the page reads.
        let needs: [String: [String]] = [
            "GET /v1/stats": ["version", "backend", "uptime_seconds", "store"],
            "GET /v1/spaces": ["spaces"], "GET /v1/jobs?limit=30": ["jobs"],
            "GET /v1/jobs/{}": ["type", "state"], "GET /v1/jobs/{}/metrics": ["series"], "GET /v1/jobs/{}/logs?limit=200": ["logs"],
            "POST /v1/jobs/{}/cancel": [], "POST /v1/spaces/{}/search": ["results"],
        ]
        for call in found.calls.sorted() {
            let method = String(call.prefix { $0 != " " })
            var path = String(call.dropFirst(method.count + 1))
            let value = path.hasPrefix("/v1/spaces/") ? "sp" : call.hasSuffix("/cancel") ? String(running) : String(done)
            path = path.replacingOccurrences(of: "{}", with: value)
            let body: JSONValue? = method == "POST" && path.hasSuffix("/search")
                ? ["function_ids": [.number(Double(ids[0]))], "k": 10, "exclude_self": true, "exclude_same_repo": true] : nil
            let r = try await s.call(method, path, body)
            #expect((200..<300).contains(r.status) && r.type == "application/json", "\(method) \(path): \(r.status)")
            let json = JSONValue.parse(String(decoding: r.body, as: UTF8.self))
            #expect(json?.objectValue != nil, "\(method) \(path): not a JSON object")
            for key in needs[call] ?? [] { #expect(json?[key] != nil, "\(method) \(path): no '\(key)'") }
            switch call {
            case "GET /v1/stats":
                for key in ["repositories", "functions", "duplicate_groups", "spaces", "vectors", "database_bytes", "jobs"] {
                    #expect(json?["store"]?[key] != nil, "store.\(key)")
                }
                #expect(json?["store"]?["functions"] == 3)
            case "GET /v1/spaces":
                let sp = json?["spaces"]?.arrayValue?.first
                #expect(sp?["name"] == "sp" && sp?["count"] == 3 && sp?["dim"] == 3 && sp?["kind"] == "body_mean" && sp?["stale"] != nil)
            case "GET /v1/jobs?limit=30":
                let jobs = json?["jobs"]?.arrayValue ?? []
                #expect(jobs.count == 2)
                for key in ["id", "type", "state", "progress", "attempt", "max_attempts", "updated_at"] {
                    #expect(jobs.allSatisfy { $0[key] != nil }, "jobs[].\(key)")
                }
            case "GET /v1/jobs/{}/metrics":
                #expect(json?["series"]?.objectValue?.values.allSatisfy { $0["steps"] != nil && $0["values"] != nil } == true)
                #expect(json?["series"]?.objectValue?.isEmpty == false)
            case "GET /v1/jobs/{}/logs?limit=200":
                let logs = json?["logs"]?.arrayValue ?? []
                #expect(!logs.isEmpty && logs.allSatisfy { $0["at"] != nil && $0["level"] != nil && $0["message"] != nil })
            case "POST /v1/spaces/{}/search":
                let hits = json?["results"]?.arrayValue?.first?["hits"]?.arrayValue ?? []
                #expect(hits.map { $0["id"]?.intValue } == [ids[2]])  // the only function in another repository
                #expect(hits.allSatisfy { h in ["score", "repo", "path", "qualified_name", "signature"].allSatisfy { h[$0] != nil } })
            default: break
            }
        }
    }
}
