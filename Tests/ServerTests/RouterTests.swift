import FlyingFox
import Foundation
import Testing
@testable import Server

/// Route matching: a literal segment wins over a parameter, for the handler and for `Allow`.
@Suite struct RouterTests {
    func router() -> Router {
        var r = Router()
        for (method, template) in [("GET", "/v1/jobs/{id}"), ("POST", "/v1/jobs/claim"), ("POST", "/v1/jobs/{id}/cancel"), ("GET", "/v1/jobs")] {
            r.add(method, template) { _ in HTTPResponse(statusCode: .ok) }
        }
        return r
    }

    @Test func aLiteralSegmentWinsOverAParameter() {
        let r = router()
        guard case .found(let claim, let none) = r.match(method: "POST", path: "/v1/jobs/claim") else { Issue.record("claim"); return }
        #expect(claim.template == "/v1/jobs/claim" && none.isEmpty)
        // GET on the literal path is not the job "claim": 405 with the literal route's methods only.
        guard case .methodNotAllowed(let allowed) = r.match(method: "GET", path: "/v1/jobs/claim") else { Issue.record("GET claim"); return }
        #expect(allowed == ["POST"])
        guard case .found(let job, let params) = r.match(method: "GET", path: "/v1/jobs/42") else { Issue.record("job"); return }
        #expect(job.template == "/v1/jobs/{id}" && params == ["id": "42"])
        guard case .methodNotAllowed(let forJob) = r.match(method: "POST", path: "/v1/jobs/42") else { Issue.record("POST job"); return }
        #expect(forJob == ["GET"])
        guard case .notFound = r.match(method: "GET", path: "/v1/jobs/42/nothing") else { Issue.record("404"); return }
    }
}
