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

/// Remote workers over HTTP (`POST /v1/jobs/claim`, `/heartbeat`, `/progress`, `/complete`, `/fail`)
/// against a real server whose own job runner is running: remote-only jobs stay with remote workers,
/// leases are enforced (409 `lease_lost`, nothing changed), bad bodies change nothing, the events
/// stream follows a remotely run job, and retry/cancel end as documented.
@Suite(.serialized) struct RemoteWorkerRouteTests {
    static let token = "remote-s3cret"
    static let auth = ["Authorization": "Bearer \(token)"]

    func server(_ backend: Backend) async throws -> LiveServer {
        try await LiveServer(backend, jobs: .init(workers: 1, lease: 30, heartbeat: 0.2)) { $0.token = Self.token }
    }

    @Test(arguments: Backend.all) func remoteOnlyEmbedJobIsClaimedHeartbeatenFollowedAndCompletedOverHTTP(_ backend: Backend) async throws {
        let s = try await server(backend)
        defer { Task { await s.stop() } }
        func post(_ path: String, _ body: JSONValue, auth: Bool = true) async throws -> LiveServer.Response {
            try await s.call("POST", path, json: body, headers: auth ? Self.auth : [:])
        }
        // A model this server does not have: its own runner must leave the job queued.
        let submitted = try await post("/v1/jobs", ["type": "embed", "remote": true, "model": "Qwen3-8B", "layers": [18], "kinds": ["body_mean"]])
        #expect(submitted.status == 202 && submitted.json?["params"]?["remote"] == true)
        let id = try #require(submitted.json?["id"]?.intValue)
        #expect(try await post("/v1/jobs", ["type": "sleep", "seconds": 0, "remote": "yes"]).errorCode == "invalid_parameter")
        // The local runner claims (and finishes) an ordinary job meanwhile, so it really is polling.
        let local = try #require(try await post("/v1/jobs", ["type": "sleep", "seconds": 0.1]).json?["id"]?.intValue)
        #expect(try await eventually { try await s.call("GET", "/v1/jobs/\(local)").json?["state"] == "succeeded" })
        try await Task.sleep(nanoseconds: 700_000_000)
        #expect(try await s.call("GET", "/v1/jobs/\(id)").json?["state"] == "queued")

        // Bad claims: 401 without the token, 400 for each bad body; the job stays queued.
        #expect(try await post("/v1/jobs/claim", ["types": ["embed"], "worker": "gpu-1", "lease_seconds": 60], auth: false).status == 401)
        let bad: [(JSONValue, String)] = [
            (["types": [], "worker": "gpu-1", "lease_seconds": 60], "invalid_parameter"),
            (["types": ["warp"], "worker": "gpu-1", "lease_seconds": 60], "unknown_job_type"),
            (["types": ["embed"], "worker": "gpu 1", "lease_seconds": 60], "invalid_parameter"),
            (["types": ["embed"], "worker": .string(String(repeating: "w", count: 101)), "lease_seconds": 60], "invalid_parameter"),
            (["types": ["embed"], "worker": "gpu-1", "lease_seconds": 4], "invalid_parameter"),
            (["types": ["embed"], "worker": "gpu-1", "lease_seconds": 3601], "invalid_parameter"),
            (["types": ["embed"], "worker": "gpu-1"], "invalid_parameter"),
            (["types": ["embed"], "worker": "gpu-1", "lease_seconds": 60, "extra": 1], "invalid_parameter"),
            (["types": "embed", "worker": "gpu-1", "lease_seconds": 60], "invalid_parameter"),
            ([1, 2], "invalid_parameter"),
        ]
        for (body, code) in bad {
            let r = try await post("/v1/jobs/claim", body)
            #expect(r.status == 400 && r.errorCode == code, "\(body.jsonString()): \(r.status) \(String(describing: r.json))")
        }
        let malformed = try await s.call("POST", "/v1/jobs/claim", body: Data("{".utf8), headers: Self.auth)
        #expect(malformed.status == 400 && malformed.errorCode == "invalid_json")
        #expect(try await s.call("GET", "/v1/jobs/\(id)").json?["state"] == "queued")

        // Claim: the job with its params, held as remote:gpu-1; nothing else is queued.
        let claimed = try await post("/v1/jobs/claim", ["types": ["embed", "probe"], "worker": "gpu-1", "lease_seconds": 60])
        #expect(claimed.status == 200 && claimed.json?["id"]?.intValue == id)
        #expect(claimed.json?["state"] == "running" && claimed.json?["worker"] == "remote:gpu-1" && claimed.json?["attempt"] == 1)
        #expect(claimed.json?["params"]?["model"] == "Qwen3-8B" && claimed.json?["params"]?["layers"] == [18])
        #expect(try await post("/v1/jobs/claim", ["types": ["embed"], "worker": "gpu-2", "lease_seconds": 60]).status == 204)

        // Another worker (or a local one's name) cannot act on it: 409, nothing changed.
        for (action, body) in [("heartbeat", ["worker": "gpu-2"] as JSONValue), ("progress", ["worker": "gpu-2", "progress": 0.9, "message": "stolen"]),
                               ("complete", ["worker": "gpu-2"]), ("fail", ["worker": "gpu-2", "error": "x"])] {
            let r = try await post("/v1/jobs/\(id)/\(action)", body)
            #expect(r.status == 409 && r.errorCode == "lease_lost", "\(action): \(r.status)")
        }
        for (action, body) in [("heartbeat", ["worker": "gpu-1", "lease_seconds": 1] as JSONValue),
                               ("progress", ["worker": "gpu-1", "progress": 1.5]), ("progress", ["worker": "gpu-1"]),
                               ("complete", ["worker": "gpu-1", "result": [1]]), ("fail", ["worker": "gpu-1", "error": ""]),
                               ("fail", ["worker": "gpu-1", "error": "x", "retry": "no"])] {
            let r = try await post("/v1/jobs/\(id)/\(action)", body)
            #expect(r.status == 400 && r.errorCode == "invalid_parameter", "\(action) \(body.jsonString()): \(r.status)")
        }
        let unchanged = try #require(try await s.call("GET", "/v1/jobs/\(id)").json)
        #expect(unchanged["state"] == "running" && unchanged["worker"] == "remote:gpu-1" && unchanged["progress"] == 0 && unchanged["message"] == "")
        #expect(try await post("/v1/jobs/999/heartbeat", ["worker": "gpu-1"]).status == 404)
        #expect(try await post("/v1/jobs/abc/complete", ["worker": "gpu-1"]).status == 400)

        // Follow the events while the remote worker reports.
        let events = Task { () -> String in
            let follow = URLRequest(url: URL(string: "\(s.base)/v1/jobs/\(id)/events")!)
            let (data, resp) = try await URLSession.shared.data(for: follow)
            checkAgainstOpenAPI(follow, resp as! HTTPURLResponse, data)
            return String(decoding: data, as: UTF8.self)
        }
        let beat = try await post("/v1/jobs/\(id)/heartbeat", ["worker": "gpu-1", "lease_seconds": 120])
        #expect(beat.status == 200 && beat.json?["cancel_requested"] == false && beat.json?["worker"] == "remote:gpu-1")
        let expires = try #require(beat.json?["lease_expires_at"]?.doubleValue)
        #expect(expires > Date().timeIntervalSince1970 + 100)
        let progress = try await post("/v1/jobs/\(id)/progress", ["worker": "gpu-1", "progress": 0.5, "message": "half way on the GPU",
                                                                     "metrics": [["step": 500, "name": "functions_per_second", "value": 321.5]]])
        #expect(progress.status == 200)
        #expect(try await eventually { try await s.call("GET", "/v1/jobs/\(id)").json?["message"] == "half way on the GPU" })
        try await Task.sleep(nanoseconds: 600_000_000)  // the stream polls every 250 ms: let it see the progress
        let done = try await post("/v1/jobs/\(id)/complete", ["worker": "gpu-1", "result": ["functions": 1000]])
        #expect(done.status == 200 && done.json?["state"] == "succeeded" && done.json?["result"]?["functions"] == 1000)
        let text = try await events.value
        #expect(text.contains(#"data: {"message":"half way on the GPU","progress":0.5}"#), "\(text)")
        #expect(text.contains("event: metric") && text.contains("321.5"))
        #expect(text.contains(#"data: {"state":"succeeded"}"#))
        let series = try await s.call("GET", "/v1/jobs/\(id)/metrics").json
        #expect(series?["series"]?["functions_per_second"]?["values"] == [321.5])
        // Finished: every further report is a 409.
        #expect(try await post("/v1/jobs/\(id)/fail", ["worker": "gpu-1", "error": "late"]).errorCode == "lease_lost")
        #expect(try await s.call("GET", "/v1/jobs/\(id)").json?["state"] == "succeeded")
    }

    @Test(arguments: Backend.all) func vanishedRemoteWorkerLosesItsJobAndRetryAndCancelEndAsDocumented(_ backend: Backend) async throws {
        let s = try await LiveServer(backend, jobs: .init(workers: 0)) { $0.token = Self.token }
        defer { Task { await s.stop() } }
        func post(_ path: String, _ body: JSONValue, auth: Bool = true) async throws -> LiveServer.Response {
            try await s.call("POST", path, json: body, headers: auth ? Self.auth : [:])
        }
        let id = try #require(try await post("/v1/jobs", ["type": "sleep", "seconds": 1, "max_attempts": 2]).json?["id"]?.intValue)
        // An ordinary (not remote-only) job is claimable remotely too.
        let first = try await post("/v1/jobs/claim", ["types": ["sleep"], "worker": "nb-1", "lease_seconds": 5])
        #expect(first.json?["id"]?.intValue == id && first.json?["attempt"] == 1)
        // nb-1 vanishes: after its lease, the next claimer gets the job (attempt 2), and nb-1 is refused.
        try await Task.sleep(nanoseconds: 5_300_000_000)
        let second = try await post("/v1/jobs/claim", ["types": ["sleep"], "worker": "nb-2", "lease_seconds": 60])
        #expect(second.json?["id"]?.intValue == id && second.json?["attempt"] == 2 && second.json?["worker"] == "remote:nb-2")
        for action in ["heartbeat", "complete"] {
            #expect(try await post("/v1/jobs/\(id)/\(action)", ["worker": "nb-1"]).errorCode == "lease_lost")
        }
        #expect(try await s.call("GET", "/v1/jobs/\(id)").json?["worker"] == "remote:nb-2")
        // Retry with no attempts left: failed.
        let failed = try await post("/v1/jobs/\(id)/fail", ["worker": "nb-2", "error": "CUDA out of memory", "retry": true])
        #expect(failed.status == 200 && failed.json?["state"] == "failed" && failed.json?["error"] == "CUDA out of memory")

        // Retry with attempts left: queued again, the attempt spent; the next claim is attempt 2.
        let retried = try #require(try await post("/v1/jobs", ["type": "sleep", "seconds": 1, "max_attempts": 2]).json?["id"]?.intValue)
        #expect(try await post("/v1/jobs/claim", ["types": ["sleep"], "worker": "nb-1", "lease_seconds": 60]).json?["id"]?.intValue == retried)
        let requeued = try await post("/v1/jobs/\(retried)/fail", ["worker": "nb-1", "error": "transient", "retry": true])
        #expect(requeued.json?["state"] == "queued" && requeued.json?["attempt"] == 1 && requeued.json?["worker"] == nil)
        #expect(try await post("/v1/jobs/claim", ["types": ["sleep"], "worker": "nb-1", "lease_seconds": 60]).json?["attempt"] == 2)
        #expect(try await post("/v1/jobs/\(retried)/fail", ["worker": "nb-1", "error": "bad input"]).json?["state"] == "failed")

        // Cancel: the heartbeat says so; the worker's fail report ends the job cancelled.
        let cancelled = try #require(try await post("/v1/jobs", ["type": "sleep", "seconds": 1]).json?["id"]?.intValue)
        _ = try await post("/v1/jobs/claim", ["types": ["sleep"], "worker": "nb-1", "lease_seconds": 60])
        #expect(try await s.call("POST", "/v1/jobs/\(cancelled)/cancel", headers: Self.auth).status == 202)
        #expect(try await post("/v1/jobs/\(cancelled)/heartbeat", ["worker": "nb-1"]).json?["cancel_requested"] == true)
        #expect(try await post("/v1/jobs/\(cancelled)/progress", ["worker": "nb-1", "progress": 0.1]).json?["cancel_requested"] == true)
        let stopped = try await post("/v1/jobs/\(cancelled)/fail", ["worker": "nb-1", "error": "cancel requested", "retry": true])
        #expect(stopped.json?["state"] == "cancelled")
        #expect(try await post("/v1/jobs/claim", ["types": ["sleep"], "worker": "nb-1", "lease_seconds": 60]).status == 204)
    }
}
