import Core
import Foundation
import Testing
import TestSupport
@testable import Server

/// `--auth writes|reads` on a real server over loopback: which routes need the bearer token, that a
/// wrong one (of any length, or differently cased) is refused, and that the dashboard page itself
/// stays reachable to ask for the token.
@Suite struct AuthTests {
    static let token = "s3cret-token"
    static var good: [String: String] { ["Authorization": "Bearer \(token)"] }
    static let wrong: [[String: String]] = [
        [:], ["Authorization": "Bearer s3cret-toke"], ["Authorization": "Bearer s3cret-token2"], ["Authorization": "bearer s3cret-token"],
        ["Authorization": "s3cret-token"], ["Authorization": "Bearer "], ["Authorization": "Basic czNjcmV0"],
    ]

    @Test(arguments: Backend.all) func withAuthReadsEveryRouteButHealthzNeedsTheToken(_ backend: Backend) async throws {
        let s = try await LiveServer(backend, jobs: .init(workers: 0)) { $0.token = Self.token; $0.auth = .reads }
        defer { Task { await s.stop() } }
        let reads = ["/metrics", "/v1/stats", "/v1/functions", "/v1/functions/1", "/v1/spaces", "/v1/spaces/x", "/v1/spaces/x/vectors",
                     "/v1/jobs", "/v1/jobs/1", "/v1/jobs/1/logs", "/v1/jobs/1/metrics", "/v1/repos", "/v1/probes?space=x",
                     "/v1/spaces/x/index", "/v1/spaces/x/neighbours"]
        for path in reads {
            for headers in Self.wrong {
                let r = try await s.call("GET", path, headers: headers)
                #expect(r.status == 401 && r.errorCode == "unauthorized", "GET \(path) \(headers): \(r.status)")
            }
            let ok = try await s.call("GET", path, headers: Self.good)
            #expect(ok.status != 401, "GET \(path) with the token: \(ok.status)")
        }
        // Writes too.
        for headers in Self.wrong {
            #expect(try await s.call("POST", "/v1/functions", json: sampleFunctions, headers: headers).status == 401)
        }
        #expect(try await s.call("POST", "/v1/functions", json: sampleFunctions, headers: Self.good).status == 200)
        #expect(try await s.call("GET", "/v1/functions", headers: Self.good).json?["functions"]?.arrayValue?.count == 3)
        // Open: the health check and the dashboard page (which asks for the token and keeps it per tab).
        #expect(try await s.call("GET", "/healthz").status == 200)
        // Its assets are open too; its api.js module keeps the token in sessionStorage and sends it.
        let page = try await s.call("GET", "/")
        #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true)
        let css = try await s.call("GET", "/dashboard/app.css")
        #expect(css.status == 200 && css.headers["content-type"]?.hasPrefix("text/css") == true)
        let api = EmbeddedDashboard.files["js/api.js"] ?? ""
        #expect(api.contains("sessionStorage") && api.contains("h.Authorization = 'Bearer ' + t"))
        // Unknown paths stay 404 (no route), whatever the token.
        #expect(try await s.call("GET", "/v1/nothing").status == 404)
    }

    @Test(arguments: Backend.all) func withAuthWritesReadsAreOpenAndWritesNeedTheToken(_ backend: Backend) async throws {
        let s = try await LiveServer(backend) { $0.token = Self.token }
        defer { Task { await s.stop() } }
        #expect(try await s.call("GET", "/v1/stats").status == 200)
        #expect(try await s.call("GET", "/metrics").status == 200)
        for headers in Self.wrong {
            let r = try await s.call("POST", "/v1/spaces", json: ["name": "a", "kind": "body_mean", "dim": 2], headers: headers)
            #expect(r.status == 401 && r.errorCode == "unauthorized", "\(headers)")
        }
        #expect(try await s.call("POST", "/v1/spaces", json: ["name": "a", "kind": "body_mean", "dim": 2], headers: Self.good).status == 201)
    }

    @Test func tokensCompareByContentOnly() {
        let t = BearerToken("abc")
        #expect(t.matches("Bearer abc"))
        for h in [nil, "", "Bearer ab", "Bearer abcd", "Bearer abd", "Bearer ABC", "bearer abc", "Bearer  abc"] as [String?] {
            #expect(!t.matches(h), "\(h ?? "nil")")
        }
    }
}
