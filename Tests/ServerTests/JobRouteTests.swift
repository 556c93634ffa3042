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

@Suite struct JobRouteTests {
    /// Job bodies as the spec's `JobSubmit` describes them per type: an unknown param, an explicit
    /// null, a lone UTF-16 surrogate or a value out of range is a 400; params that fit the schema but
    /// break a rule between fields are a 422; nothing is queued. (Every exchange is checked against
    /// openapi/openapi.yaml by the harness.) The snapshot route holds to the same null rule.
    @Test(arguments: Backend.all) func jobBodiesOutsideTheirSchemaAre400AndRulesBetweenFields422(_ backend: Backend) async throws {
        let s = try await LiveServer(backend, jobs: .init(lease: 5))
        defer { Task { await s.stop() } }
        struct Case { var method: String; var path: String; var body: Data; var type: String?; var status: Int; var code: String }
        func j(_ text: String) -> Data { Data(text.utf8) }
        let cases: [Case] = [
            Case(method: "PUT", path: "/v1/repos/snapshot", body: j("{\"name\": \"r\", \"path\": null, \"functions\": []}"), type: nil, status: 400, code: "invalid_json"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"sleep\", \"seconds\": 1, \"steps\": null}"), type: nil, status: 400, code: "invalid_parameter"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"sleep\", \"seconds\": 1, \"\\udc80\": 1}"), type: nil, status: 400, code: "invalid_json"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"sleep\", \"seconds\": 1, \"second\": 2}"), type: nil, status: 400, code: "invalid_parameter"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"sleep\", \"seconds\": 1, \"steps\": 0}"), type: nil, status: 400, code: "invalid_parameter"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"embed\", \"layers\": [3], \"normalise\": true}"), type: nil, status: 400, code: "invalid_parameter"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"probe\", \"space\": \"has space\"}"), type: nil, status: 400, code: "invalid_parameter"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"probe\", \"space\": \"m.L3.sig_tokens\"}"), type: nil, status: 422, code: "wrong_space_kind"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"train\", \"input_space\": \"a\", \"target_space\": \"b\", \"d_model\": 30, \"heads\": 4}"), type: nil, status: 422, code: "invalid_combination"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"train\", \"input_space\": \"a\", \"target_space\": \"b\", \"lr\": 0.1, \"learning_rate\": 0.2}"), type: nil, status: 422, code: "repeated_setting"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"train\", \"input_space\": \"a\", \"target_space\": \"b\", \"epochs\": 1000000001}"), type: nil, status: 400, code: "invalid_parameter"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"train\", \"input_space\": \"a\", \"target_space\": \"b\", \"folds\": 1}"), type: nil, status: 400, code: "invalid_parameter"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"train\", \"input_space\": \"a\", \"target_space\": \"b\", \"folds\": 21}"), type: nil, status: 400, code: "invalid_parameter"),
            Case(method: "POST", path: "/v1/jobs", body: j("{\"type\": \"train\", \"input_space\": \"a\", \"target_space\": \"b\", \"folds\": 2.5}"), type: nil, status: 400, code: "invalid_parameter"),
        ]
        for c in cases {
            let r = try await s.call(c.method, c.path, body: c.body, contentType: "application/json")
            #expect(r.status == c.status && r.errorCode == c.code, "\(c.method) \(c.path) \(String(decoding: c.body, as: UTF8.self)): \(String(decoding: r.body, as: UTF8.self))")
        }
        #expect(try await s.call("GET", "/v1/jobs").json?["jobs"]?.arrayValue?.isEmpty == true, "nothing was queued")
    }

    @Test(arguments: Backend.all) func jobsOverHTTPWithEventsMetricsLogsAndCancel(_ backend: Backend) async throws {
        let server = try await LiveServer(backend, jobs: .init(lease: 5))
        defer { Task { await server.stop() } }
        let base = server.base

        func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> (Int, JSONValue?) {
            let r = try await server.call(method, path, body: body.map { Data($0.utf8) })
            return (r.status, r.json)
        }

        let (status, job) = try await call("POST", "/v1/jobs", #"{"type": "sleep", "seconds": 0.4, "steps": 4}"#)
        #expect(status == 202 && job?["state"] == "queued")
        let id = try #require(job?["id"]?.intValue)

        // Follow the events until the stream ends by itself.
        let follow = URLRequest(url: URL(string: "\(base)/v1/jobs/\(id)/events")!)
        let (data, resp) = try await URLSession.shared.data(for: follow)
        checkAgainstOpenAPI(follow, resp as! HTTPURLResponse, data)
        #expect((resp as! HTTPURLResponse).value(forHTTPHeaderField: "Content-Type") == "text/event-stream")
        let text = String(decoding: data, as: UTF8.self)
        let events = text.components(separatedBy: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
        #expect(events.first == "state" && events.last == "end")
        #expect(events.filter { $0 == "metric" }.count == 4)
        #expect(text.contains(#"data: {"state":"succeeded"}"#))

        let (_, metrics) = try await call("GET", "/v1/jobs/\(id)/metrics")
        #expect(metrics?["series"]?["step"]?["steps"] == [0, 1, 2, 3])
        let (_, logs) = try await call("GET", "/v1/jobs/\(id)/logs")
        #expect(logs?["logs"]?.arrayValue?.first?["message"]?.stringValue?.hasPrefix("attempt 1 of 3") == true)
        let (_, list) = try await call("GET", "/v1/jobs?state=succeeded&type=sleep")
        #expect(list?["jobs"]?.arrayValue?.map { $0["id"]!.intValue! } == [id])

        let (_, long) = try await call("POST", "/v1/jobs", #"{"type": "sleep", "seconds": 60, "steps": 600}"#)
        let longID = try #require(long?["id"]?.intValue)
        #expect(try await eventually { try await call("GET", "/v1/jobs/\(longID)").1?["state"] == "running" })
        #expect(try await call("POST", "/v1/jobs/\(longID)/cancel").0 == 202)
        #expect(try await eventually(120) { try await call("GET", "/v1/jobs/\(longID)").1?["state"] == "cancelled" })

        // Bad submissions and unknown jobs.
        for (body, code) in [(#"{"seconds": 1}"#, "invalid_json"), (#"{"type": "warp"}"#, "unknown_job_type"),
                             (#"{"type": "sleep"}"#, "invalid_parameter"), (#"{"type": "sleep", "seconds": 1, "max_attempts": 0}"#, "invalid_parameter"),
                             ("[1]", "invalid_json")] {
            let (s, e) = try await call("POST", "/v1/jobs", body)
            #expect(s == 400 && e?["error"]?["code"]?.stringValue == code, "\(body)")
        }
        // A wrong type, a missing field, a value out of range: 400 at submission, the field named.
        for (body, field) in [(#"{"type": "probe", "space": "s", "folds": 2.5}"#, "'folds'"), (#"{"type": "neighbours", "k": 3}"#, "'space'"),
                              (#"{"type": "train", "input_space": "a", "target_space": "b", "epochs": 0}"#, "'epochs'")] {
            let (s, e) = try await call("POST", "/v1/jobs", body)
            #expect(s == 400 && e?["error"]?["code"] == "invalid_parameter", "\(body)")
            #expect(e?["error"]?["message"]?.stringValue?.contains(field) == true, "\(body): \(String(describing: e))")
        }
        #expect(try await call("GET", "/v1/jobs/999").0 == 404)
        #expect(try await call("POST", "/v1/jobs/999/cancel").0 == 404)
        #expect(try await call("GET", "/v1/jobs?state=sleeping").0 == 400)
        // Query parameters that are present but not what they say are 400s, never silently "no filter".
        for path in ["/v1/jobs?state=", "/v1/jobs/\(id)/logs?after=abc", "/v1/jobs/\(id)/logs?after=9223372036854775808",
                     "/v1/jobs/\(id)/metrics?after_step=null", "/v1/jobs/\(id)/metrics?after_step=1.5"] {
            let (s, e) = try await call("GET", path)
            #expect(s == 400 && e?["error"]?["code"] == "invalid_parameter", "\(path): \(s) \(String(describing: e))")
        }
        #expect(try await call("GET", "/v1/jobs/\(id)/logs?after=0").0 == 200)
    }
}
