import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
@testable import Server

/// The dashboard's files (`dashboard/`, compiled in by the EmbedDashboard plugin) on a real server
/// over loopback: every asset `index.html` references and every module the JavaScript imports
/// (followed from `main.js`) is served 200 with its content type and `Cache-Control: no-cache`;
/// unknown assets are 404 JSON, `..` is refused; the embedded set is the folder; no token is needed
/// for the page, even with read auth; and every API call the modules make names a registered route.
///
/// ```
/// swift test --skip-build --filter DashboardTests
/// ```
@Suite struct DashboardTests {
    static let folder = PackagePaths.root.appendingPathComponent("dashboard")

    /// One GET without the contract check (asset paths hold `/`, which OpenAPI's `{path}` cannot).
    static func get(_ base: String, _ path: String, headers: [String: String] = [:]) async throws
        -> (status: Int, type: String, cache: String, body: Data) {
        var req = URLRequest(url: URL(string: base + path)!)
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let (data, resp) = try await URLSession.shared.data(for: req)
        let http = resp as! HTTPURLResponse
        return (http.statusCode, http.value(forHTTPHeaderField: "Content-Type") ?? "",
                http.value(forHTTPHeaderField: "Cache-Control") ?? "", data)
    }

    /// The content type an asset must be served with.
    static func expectedType(_ path: String) -> String {
        switch path.split(separator: ".").last ?? "" {
        case "html": "text/html"
        case "css": "text/css"
        case "js": "text/javascript"
        case "svg": "image/svg+xml"
        case "md": "text/markdown"
        default: "?"
        }
    }

    static func matches(_ pattern: String, in text: String, group: Int = 1) -> [String] {
        let re = try! NSRegularExpression(pattern: pattern)
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: group)) }
    }

    /// `/dashboard/…` paths of `href`/`src` attributes.
    static func references(inHTML html: String) -> [String] {
        matches(##"(?:href|src)="(/dashboard/[^"#?]+)""##, in: html)
    }

    /// Relative specifiers of `import … from './x.js'`, `export … from './x.js'` and `import './x.js'`.
    static func imports(inJS js: String) -> [String] {
        matches(#"(?m)^\s*(?:import|export)\b[^'";]*?(?:from\s*)?['"](\.{1,2}/[^'"]+)['"]"#, in: js)
    }

    /// `base` (a module's asset path, `js/main.js`) joined with a relative specifier (`./api.js`).
    static func resolve(_ specifier: String, from base: String) -> String {
        var parts = base.split(separator: "/").dropLast().map(String.init)
        for p in specifier.split(separator: "/") {
            if p == "." { continue }
            if p == ".." { _ = parts.popLast(); continue }
            parts.append(String(p))
        }
        return parts.joined(separator: "/")
    }

    @Test func everyAssetThePageReferencesOrImportsIsServedWithItsType() async throws {
        let s = try await LiveServer()
        defer { Task { await s.stop() } }
        let page = try await Self.get(s.base, "/")
        #expect(page.status == 200 && page.type.hasPrefix("text/html") && page.cache == "no-cache")
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html == EmbeddedDashboard.files["index.html"])
        #expect(html.contains(#"<script type="module" src="/dashboard/js/main.js"></script>"#))

        var queue = Self.references(inHTML: html).map { String($0.dropFirst("/dashboard/".count)) }
        #expect(queue.contains("app.css") && queue.contains("js/main.js"))
        var served = Set<String>()
        while let path = queue.popLast() {
            guard served.insert(path).inserted else { continue }
            let r = try await Self.get(s.base, "/dashboard/" + path)
            #expect(r.status == 200, "\(path): \(r.status)")
            #expect(r.type.hasPrefix(Self.expectedType(path)), "\(path): \(r.type)")
            #expect(r.cache == "no-cache", "\(path): Cache-Control \(r.cache)")
            #expect(r.body == Data((EmbeddedDashboard.files[path] ?? "").utf8), "\(path): not the embedded text")
            if path.hasSuffix(".js") {
                for spec in Self.imports(inJS: String(decoding: r.body, as: UTF8.self)) {
                    queue.append(Self.resolve(spec, from: path))
                }
            }
        }
        // Every module is reached from main.js (none orphaned), and every file is reachable by URL.
        let modules = Set(EmbeddedDashboard.files.keys.filter { $0.hasSuffix(".js") })
        #expect(modules.subtracting(served).isEmpty, "modules nothing imports: \(modules.subtracting(served).sorted())")
        #expect(served.contains("js/api.js") && served.contains("js/chart.js") && served.contains("js/router.js"))
        for path in EmbeddedDashboard.files.keys.sorted() where !served.contains(path) {
            let r = try await Self.get(s.base, "/dashboard/" + path)
            #expect(r.status == 200 && r.type.hasPrefix(Self.expectedType(path)), "\(path): \(r.status) \(r.type)")
        }
    }

    @Test func unknownAssetsAre404JSONAndTraversalIsRefused() async throws {
        let s = try await LiveServer()
        defer { Task { await s.stop() } }
        for path in ["/dashboard/nope.js", "/dashboard/js/nope.js", "/dashboard/js", "/dashboard/index.htm"] {
            let r = try await Self.get(s.base, path)
            let json = JSONValue.parse(String(decoding: r.body, as: UTF8.self))
            #expect(r.status == 404 && r.type == "application/json" && json?["error"]?["code"] == "unknown_asset", "\(path): \(r.status)")
        }
        // Exact bytes on the wire (URLSession would normalise the dots away).
        let attempts: [(String, Int)] = [
            ("/dashboard/%2e%2e/Package.swift", 400), ("/dashboard/js/%2e%2e/%2e%2e/Package.swift", 400),
            ("/dashboard/..%2fPackage.swift", 400), ("/dashboard/.%2e/.%2e/Package.swift", 400),
            ("/dashboard/%252e%252e/Package.swift", 400),
            ("/dashboard/../Package.swift", 404),  // dot segments removed first: /Package.swift, no route
            ("/dashboard/../../../etc/passwd", 404),
        ]
        for (path, status) in attempts {
            let client = try RawClient(port: s.port)
            client.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            // Waited for without blocking (a blocking read would hold a cooperative thread the in-process
            // server needs: under a loaded full run it then answered nothing within the read timeout).
            let text = String(decoding: await client.waitForClose(within: 60).data, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 \(status) "), "\(path): \(text.prefix(40))")
            #expect(text.contains("application/json") && !text.contains("PackageDescription") && !text.contains("root:"), "\(path)")
        }
    }

    @Test func theEmbeddedFilesAreTheDashboardFolder() throws {
        let fm = FileManager.default
        var onDisk = [String: String]()
        for relative in try fm.subpathsOfDirectory(atPath: Self.folder.path) {
            var isDir: ObjCBool = false
            let url = Self.folder.appendingPathComponent(relative)
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue,
                  !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { continue }
            onDisk[relative] = try String(contentsOf: url, encoding: .utf8)
        }
        #expect(Set(EmbeddedDashboard.files.keys) == Set(onDisk.keys))
        for (path, text) in onDisk { #expect(EmbeddedDashboard.files[path] == text, "\(path) differs: rebuild") }
        #expect(["index.html", "app.css", "js/main.js", "js/api.js", "js/chart.js", "js/router.js", "README.md"]
            .allSatisfy { onDisk[$0] != nil })
        // The contract shared with the browser test is kept word for word (additions only, after it).
        let contract = try #require(onDisk["README.md"])
        #expect(contract.hasPrefix("# Dashboard ↔ browser-test contract (issue 15)"))
    }

    @Test func thePageNeedsNoTokenButItsAPICallsDo() async throws {
        let s = try await LiveServer { $0.token = "s3cret"; $0.auth = .reads }
        defer { Task { await s.stop() } }
        for path in ["/", "/dashboard/js/api.js", "/dashboard/app.css"] {
            #expect(try await Self.get(s.base, path).status == 200, "\(path)")
        }
        #expect(try await Self.get(s.base, "/dashboard/nope.js").status == 404)
        #expect(try await Self.get(s.base, "/v1/stats").status == 401)
        #expect(try await Self.get(s.base, "/v1/stats", headers: ["Authorization": "Bearer s3cret"]).status == 200)
    }

    /// Every API call of the modules: `api('…')`, `post('…')`, `events('…')`, `request('…')` with a
    /// literal or template first argument, as "METHOD /path?query" with `{}` where a `${…}` is.
    static func apiCalls() throws -> Set<String> {
        var calls = Set<String>()
        let re = try NSRegularExpression(pattern: #"\b(api|post|events|request)\(\s*(['`])(/[^'`]*)\2"#)
        for (path, js) in EmbeddedDashboard.files where path.hasSuffix(".js") {
            let ns = js as NSString
            for m in re.matches(in: js, range: NSRange(location: 0, length: ns.length)) {
                let fn = ns.substring(with: m.range(at: 1))
                let url = ns.substring(with: m.range(at: 3)).replacingOccurrences(of: #"\$\{[^}]*\}"#, with: "{}", options: .regularExpression)
                calls.insert("\(fn == "post" ? "POST" : "GET") \(url)")
            }
        }
        return calls
    }

    /// Every API call of the modules names a route the server registers for that method.
    @Test func everyAPICallOfTheModulesNamesARegisteredRoute() throws {
        var router = Router()
        for line in try OpenAPITests.registeredRoutes() {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            router.add(parts[0], parts[1]) { _ in .init(statusCode: .ok) }
        }
        let calls = try Self.apiCalls()
        #expect(calls.count >= 12, "the regex found too few calls: \(calls.sorted())")
        for call in calls.sorted() {
            let parts = call.split(separator: " ").map(String.init)
            let path = String(parts[1].prefix { $0 != "?" }).replacingOccurrences(of: "{}", with: "1")
            guard case .found = router.match(method: parts[0], path: path) else {
                Issue.record("the page calls \(call), which the server does not route")
                continue
            }
        }
        #expect(calls.contains("GET /v1/jobs/{}/events") && calls.contains("POST /v1/spaces/{}/search") && calls.contains("POST /v1/jobs"))
    }

    /// Every GET of the modules (but the event stream), with a job, a space and a function of a real
    /// store put where the page puts its values, answers 2xx JSON.
    @Test(arguments: Backend.all) func everyGETOfTheModulesAnswersJSON(_ backend: Backend) async throws {
        let s = try await LiveServer(backend, jobs: .init())
        defer { Task { await s.stop() } }
        let ids = try #require(try await s.call("POST", "/v1/functions", json: sampleFunctions).json?["ids"]?.arrayValue?.compactMap(\.intValue))
        #expect(try await s.call("POST", "/v1/spaces", json: ["name": "sp", "kind": "body_mean", "dim": 3]).status == 201)
        #expect(try await s.call("PUT", "/v1/spaces/sp/vectors", json: ["ids": .array(ids.map { .number(Double($0)) }),
                                                                        "vectors": [[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0]]]).status == 200)
        let job = try #require(try await s.call("POST", "/v1/jobs", json: ["type": "sleep", "seconds": 0.2, "steps": 2]).json?["id"]?.intValue)
        #expect(try await eventually { try await s.call("GET", "/v1/jobs/\(job)").json?["state"] == "succeeded" })

        let gets = try Self.apiCalls().filter { $0.hasPrefix("GET ") && !$0.hasSuffix("/events") }.sorted()
        #expect(gets.count >= 10)
        for call in gets {
            let template = String(call.dropFirst(4))
            var parts = template.split(separator: "?", maxSplits: 1).map(String.init)
            var segments = parts[0].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            for i in segments.indices where segments[i] == "{}" {
                switch segments[i - 1] {
                case "jobs": segments[i] = String(job)
                case "spaces": segments[i] = "sp"
                case "functions": segments[i] = String(ids[0])
                default: Issue.record("\(call): no value for the segment after '\(segments[i - 1])'")
                }
            }
            parts[0] = segments.joined(separator: "/")
            let path = parts.joined(separator: "?").replacingOccurrences(of: "{}", with: String(ids[0]))
            let r = try await Self.get(s.base, path)
            #expect((200..<300).contains(r.status) && r.type == "application/json", "\(call) → GET \(path): \(r.status)")
            #expect(JSONValue.parse(String(decoding: r.body, as: UTF8.self))?.objectValue != nil, "\(path): not a JSON object")
        }
    }

    /// `GET /v1/repos` counts each repository's duplicates (functions whose body another function of
    /// the store has too), which the overview shows as the duplicate share.
    @Test(arguments: Backend.all) func repositoriesCountTheirDuplicates(_ backend: Backend) async throws {
        let s = try await LiveServer(backend, jobs: .init(workers: 0))  // (GET /v1/repos comes with the job routes)
        defer { Task { await s.stop() } }
        func f(_ repo: String, _ name: String, _ body: String) -> JSONValue {
            ["repo": .string(repo), "path": "m.py", "qualified_name": .string(name), "start_line": 1, "end_line": 3,
             "signature": .string("def \(name)(x):"), "body": .string(body)]
        }
        let one = "    y = x + 1\n    return y * 2\n", two = "    for i in x:\n        print(i)\n"
        let functions: JSONValue = ["functions": [
            f("a", "f1", one), f("a", "u1", "    return 'a'\n"), f("a", "f2", two),
            f("b", "g1", one), f("b", "g2", two), f("b", "g3", two),
            f("c", "u2", "    raise ValueError(x)\n"),
        ]]
        #expect(try await s.call("POST", "/v1/functions", json: functions).status == 200)
        let repos = try await s.call("GET", "/v1/repos").json?["repos"]?.arrayValue ?? []
        let counts = repos.map { "\($0["name"]?.stringValue ?? "?") \($0["functions"]?.intValue ?? -1) \($0["duplicates"]?.intValue ?? -1)" }
        #expect(counts == ["a 3 2", "b 3 3", "c 1 0"])
        #expect(try await s.call("GET", "/v1/stats").json?["store"]?["duplicate_groups"] == 2)
    }

    /// `GET /v1/jobs?before=` pages the list newest first (the jobs page's older/newer buttons), with
    /// the filters; a bad cursor is a 400.
    @Test(arguments: Backend.all) func jobsArePagedWithBefore(_ backend: Backend) async throws {
        let s = try await LiveServer(backend, jobs: .init(workers: 0))
        defer { Task { await s.stop() } }
        for _ in 0..<5 {
            #expect(try await s.call("POST", "/v1/jobs", json: ["type": "sleep", "seconds": 0.1]).status == 202)
        }
        func page(_ query: String) async throws -> [Int] {
            try await s.call("GET", "/v1/jobs?\(query)").json?["jobs"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? []
        }
        let all = try await page("limit=100")
        #expect(all == all.sorted(by: >) && all.count == 5)
        let first = try await page("limit=2")
        let second = try await page("limit=2&before=\(first.last!)")
        let third = try await page("limit=2&before=\(second.last!)")
        #expect(first + second + third == all)
        #expect(try await page("type=sleep&state=queued&limit=2&before=\(all[0])") == Array(all[1...2]))
        #expect(try await page("type=ingest&before=\(all[0])").isEmpty)
        let bad = try await s.call("GET", "/v1/jobs?before=x")
        #expect(bad.status == 400 && bad.errorCode == "invalid_parameter")
    }

    /// A `rest: true` route's last parameter takes one segment or more, slashes included; literal
    /// templates still win, and the prefix alone is no match.
    @Test func aRestRouteTakesTheRemainingSegments() {
        var router = Router()
        router.add("GET", "/dashboard/{path}", rest: true) { _ in .init(statusCode: .ok) }
        router.add("GET", "/dashboard/special") { _ in .init(statusCode: .noContent) }
        func param(_ path: String) -> String? {
            if case .found(let route, let params) = router.match(method: "GET", path: path), route.rest { return params["path"] }
            return nil
        }
        #expect(param("/dashboard/app.css") == "app.css")
        #expect(param("/dashboard/js/api.js") == "js/api.js")
        #expect(param("/dashboard/a/b/c.svg") == "a/b/c.svg")
        #expect(param("/dashboard/js/%2e%2e/x") == "js/../x")  // decoded: the handler refuses it
        #expect(param("/dashboard") == nil && param("/dashboard/") == nil && param("/other/x") == nil)
        if case .found(let route, _) = router.match(method: "GET", path: "/dashboard/special") { #expect(!route.rest) } else { Issue.record("no match") }
        if case .methodNotAllowed(let allowed) = router.match(method: "POST", path: "/dashboard/x.js") { #expect(allowed == ["GET"]) } else { Issue.record("POST matched") }
    }
}
