import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Server

@Suite struct BadInputTests {
    /// Every bad input gets a 4xx JSON error and leaves the store as it was.
    @Test(arguments: Backend.all) func badInputIsA4xxAndChangesNothing(_ backend: Backend) async throws {
        let s = try await LiveServer(backend) { $0.maxBodyBytes = 64 << 10 }
        defer { Task { await s.stop() } }
        let ids = (try await s.call("POST", "/v1/functions", json: sampleFunctions).json?["ids"]?.arrayValue ?? []).compactMap { $0.intValue }
        try #require(ids.count == 3)
        _ = try await s.call("POST", "/v1/spaces", json: ["name": "sp", "kind": "body_mean", "dim": 3])
        _ = try await s.call("PUT", "/v1/spaces/sp/vectors", json: ["ids": [.number(Double(ids[0]))], "vectors": [[1, 2, 3]]])
        let before = try await s.call("GET", "/metrics").body  // not compared; warms the route
        _ = before
        let snapshot = try await s.storeCounts()

        struct Case { var method: String; var path: String; var body: Data; var type: String?; var status: Int; var code: String }
        func j(_ text: String) -> Data { Data(text.utf8) }
        let i0 = ids[0], i1 = ids[1]
        let nanNpy = NPYArray(floats: [1, .nan, 3], shape: [1, 3]).encoded()
        let infNpy = NPYArray(floats: [1, 2, .infinity], shape: [1, 3]).encoded()
        let wideNpy = NPYArray(floats: [1, 2, 3, 4], shape: [1, 4]).encoded()
        let bigEndian = Data([0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0]) + Data(("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 3), }" + String(repeating: " ", count: 57) + "\n").utf8) + Data(count: 12)
        let cases: [Case] = [
            Case(method: "POST", path: "/v1/functions", body: j("{\"functions\": [ {"), type: nil, status: 400, code: "invalid_json"),
            Case(method: "POST", path: "/v1/functions", body: j("{\"functions\": [{\"repo\": \"r\"}]}"), type: nil, status: 400, code: "invalid_json"),
            Case(method: "POST", path: "/v1/functions", body: j("{\"functions\": [{\"repo\": \"r\", \"path\": \"p\", \"qualified_name\": \"f\", \"start_line\": \"one\", \"end_line\": 2, \"signature\": \"\", \"body\": \"\"}]}"), type: nil, status: 400, code: "invalid_json"),
            Case(method: "POST", path: "/v1/functions", body: j("{\"functions\": [{\"repo\": \"r\", \"path\": \"p\", \"qualified_name\": \"f\", \"start_line\": 5, \"end_line\": 2, \"signature\": \"\", \"body\": \"\"}]}"), type: nil, status: 422, code: "invalid_function"),
            Case(method: "POST", path: "/v1/functions", body: j("{\"functions\": [{\"repo\": \"r\", \"path\": \"p\", \"qualified_name\": \"f\", \"start_line\": 1, \"end_line\": 2, \"signature\": \"\", \"body\": \"\"}, {\"repo\": \"r\", \"path\": \"p\", \"qualified_name\": \"f\", \"start_line\": 1, \"end_line\": 2, \"signature\": \"\", \"body\": \"x\"}]}"), type: nil, status: 422, code: "duplicate_keys"),
            Case(method: "POST", path: "/v1/functions", body: Data(), type: nil, status: 400, code: "invalid_json"),
            Case(method: "POST", path: "/v1/spaces", body: j("{\"name\": \"x\", \"kind\": \"nonsense\", \"dim\": 3}"), type: nil, status: 400, code: "invalid_json"),
            Case(method: "POST", path: "/v1/spaces", body: j("{\"name\": \"x\", \"kind\": \"body_mean\", \"dim\": 0}"), type: nil, status: 400, code: "invalid_space"),
            Case(method: "POST", path: "/v1/spaces", body: j("{\"name\": \"sp\", \"kind\": \"body_mean\", \"dim\": 3}"), type: nil, status: 409, code: "space_exists"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors", body: j("{\"ids\": [\(i1)], \"vectors\": [[1, 2]]}"), type: nil, status: 422, code: "wrong_dimension"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors", body: j("{\"ids\": [\(i1)], \"vectors\": [[1, 2, NaN]]}"), type: nil, status: 400, code: "invalid_json"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors", body: j("{\"ids\": [\(i1), \(i1)], \"vectors\": [[1, 2, 3], [1, 2, 3]]}"), type: nil, status: 400, code: "duplicate_ids"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors", body: j("{\"ids\": [\(i1), 987654], \"vectors\": [[1, 2, 3], [1, 2, 3]]}"), type: nil, status: 422, code: "unknown_function"),
            Case(method: "PUT", path: "/v1/spaces/nope/vectors", body: j("{\"ids\": [\(i1)], \"vectors\": [[1, 2, 3]]}"), type: nil, status: 404, code: "unknown_space"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors", body: j("{\"ids\": [\(i1)], \"vectors_b64\": [\"@@@\"]}"), type: nil, status: 400, code: "invalid_base64"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors?ids=\(i1)", body: nanNpy, type: "application/x-npy", status: 400, code: "non_finite"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors?ids=\(i1)", body: infNpy, type: "application/x-npy", status: 400, code: "non_finite"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors?ids=\(i1)", body: wideNpy, type: "application/x-npy", status: 422, code: "wrong_dimension"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors", body: wideNpy, type: "application/x-npy", status: 400, code: "missing_ids"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors?ids=\(i1)", body: j("garbage"), type: "application/x-npy", status: 400, code: "bad_npy"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors?ids=\(i1)", body: bigEndian, type: "application/x-npy", status: 415, code: "unsupported_media_type"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors", body: j("PK\u{5}\u{6}"), type: "application/x-npz", status: 400, code: "bad_npz"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors", body: j("a,b"), type: "text/csv", status: 415, code: "unsupported_media_type"),
            Case(method: "GET", path: "/v1/spaces/sp/vectors?ids=\(i0),x", body: Data(), type: nil, status: 400, code: "invalid_ids"),
            Case(method: "GET", path: "/v1/spaces/sp/vectors?ids=\(i1)", body: Data(), type: nil, status: 404, code: "unknown_vector"),
            Case(method: "GET", path: "/v1/functions/abc", body: Data(), type: nil, status: 400, code: "invalid_parameter"),
            Case(method: "GET", path: "/v1/functions/999999", body: Data(), type: nil, status: 404, code: "unknown_function"),
            Case(method: "GET", path: "/v1/functions?limit=0", body: Data(), type: nil, status: 400, code: "invalid_parameter"),
            Case(method: "GET", path: "/v1/functions?cursor=zzz", body: Data(), type: nil, status: 400, code: "invalid_cursor"),
            // An empty cursor, or one `next_cursor` never looks like, is as invalid as any other.
            Case(method: "GET", path: "/v1/functions?cursor=", body: Data(), type: nil, status: 400, code: "invalid_cursor"),
            Case(method: "GET", path: "/v1/functions?cursor=%2B5", body: Data(), type: nil, status: 400, code: "invalid_cursor"),
            // ids lists hold to the spec's IdList pattern (an empty list or a space is no id).
            Case(method: "GET", path: "/v1/spaces/sp/vectors?ids=", body: Data(), type: nil, status: 400, code: "invalid_ids"),
            Case(method: "GET", path: "/v1/spaces/sp/vectors?ids=\(i0),%20\(i1)", body: Data(), type: nil, status: 400, code: "invalid_ids"),
            Case(method: "GET", path: "/v1/spaces/sp/vectors?ids=%2B\(i0)", body: Data(), type: nil, status: 400, code: "invalid_ids"),
            // Matrices for a one-vector-per-id space fit the spec's TokenVectorsInput: the space decides, a 422.
            Case(method: "PUT", path: "/v1/spaces/sp/vectors", body: j("{\"ids\": [\(i1)], \"vectors\": [[[1, 2, 3]]]}"), type: nil, status: 422, code: "wrong_dimension"),
            // Beyond float32's range: a 400 naming the value's place (the spec's Float32 bounds).
            Case(method: "PUT", path: "/v1/spaces/sp/vectors", body: j("{\"ids\": [\(i1)], \"vectors\": [[1, 3.4028236e38, 3]]}"), type: nil, status: 400, code: "invalid_json"),
            // An explicit null for a field the spec does not mark nullable: a 400 naming the field.
            Case(method: "POST", path: "/v1/embed", body: j("{\"texts\": [\"a\"], \"normalize\": null}"), type: nil, status: 400, code: "invalid_json"),
            Case(method: "POST", path: "/v1/spaces/sp/index", body: j("{\"factory\": \"Flat\", \"metric\": null}"), type: nil, status: 400, code: "invalid_json"),
            Case(method: "POST", path: "/v1/spaces/sp/search", body: j("{\"function_ids\": [\(i0)], \"k\": null}"), type: nil, status: 400, code: "invalid_json"),
            // A lone UTF-16 surrogate escape is no Unicode text: a clean 400, the connection served on.
            Case(method: "POST", path: "/v1/functions", body: j("{\"functions\": [{\"repo\": \"r\", \"path\": \"p\", \"qualified_name\": \"f\", \"start_line\": 1, \"end_line\": 2, \"signature\": \"\", \"body\": \"\\ud800x\"}]}"), type: nil, status: 400, code: "invalid_json"),
            Case(method: "DELETE", path: "/v1/spaces/nope", body: Data(), type: nil, status: 404, code: "unknown_space"),
            Case(method: "GET", path: "/v2/nothing", body: Data(), type: nil, status: 404, code: "no_route"),
            Case(method: "PATCH", path: "/v1/functions", body: Data(), type: nil, status: 405, code: "method_not_allowed"),
            Case(method: "PUT", path: "/v1/spaces/sp/vectors?ids=\(i1)", body: Data(count: 100 << 10), type: "application/x-npy", status: 413, code: "payload_too_large"),
        ]
        for c in cases {
            let r = try await s.call(c.method, c.path, body: c.body.isEmpty && c.method == "GET" ? nil : c.body, contentType: c.type ?? (c.body.isEmpty ? nil : "application/json"))
            #expect(r.status == c.status, "\(c.method) \(c.path): \(String(decoding: r.body, as: UTF8.self))")
            #expect(r.errorCode == c.code, "\(c.method) \(c.path): \(String(decoding: r.body, as: UTF8.self))")
            #expect(r.headers["content-type"] == "application/json")
            #expect((r.json?["error"]?["message"]?.stringValue ?? "").isEmpty == false)
        }
        let after = try await s.storeCounts()
        #expect(after == snapshot)
        // The one stored vector is untouched.
        #expect(try await s.call("GET", "/v1/spaces/sp/vectors?ids=\(i0)").json?["vectors"] == [[1, 2, 3]])
        // Too many functions in one batch.
        let many = JSONValue.object(["functions": .array((0...APIServer.maxFunctionBatch).map { i in
            ["repo": "r", "path": "p.py", "qualified_name": .string("f\(i)"), "start_line": 1, "end_line": 1, "signature": "", "body": ""]
        })])
        let big = try await LiveServer(backend)
        defer { Task { await big.stop() } }
        let r = try await big.call("POST", "/v1/functions", json: many)
        #expect(r.status == 413 && r.errorCode == "payload_too_large")
        #expect(try await big.call("GET", "/v1/stats").json?["store"]?["functions"] == 0)
    }

    /// Any JSON number within float32's range is a vector value; a tiny one (1e-300, which
    /// Foundation's Float decoding refuses as "not valid JSON") rounds to 0 as float32 does.
    /// Made-up request methods are refused, and counted under one `OTHER` label: a client cannot grow
    /// /metrics by one series per method name, nor break its format with a quote in one.
    @Test func madeUpMethodsAreCountedUnderOneLabel() async throws {
        let s = try await LiveServer(.sqlite)
        defer { Task { await s.stop() } }
        for i in 0..<20 {
            let c = try RawClient(port: s.port)
            #expect(c.send("FOO\(i)BAR /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
            // Waited for without blocking: a blocking read here would hold one of the cooperative threads
            // the in-process server needs (on 2 cores, half of them) and stall every other suite.
            let answer = String(decoding: await c.waitForClose(within: 60).data, as: UTF8.self)
            let status = answer.hasPrefix("HTTP/1.1 ") ? Int(answer.dropFirst(9).prefix(3)) : nil
            #expect(status.map { (400..<500).contains($0) } == true, "answer \(answer.prefix(80))")
        }
        let metrics = String(decoding: try await s.call("GET", "/metrics").body, as: UTF8.self)
        #expect(!metrics.contains("FOO"))
        let other = metrics.split(separator: "\n").filter { $0.hasPrefix("swejepa_http_requests_total{") && $0.contains("method=\"OTHER\"") }
        #expect(other.count == 1 && other.first.flatMap { Int($0.split(separator: " ").last ?? "") } == 20, "\(other)")
    }

    @Test(arguments: Backend.all) func tinyAndLargestFloat32ValuesAreAccepted(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let ids = (try await s.call("POST", "/v1/functions", json: sampleFunctions).json?["ids"]?.arrayValue ?? []).compactMap { $0.intValue }
        _ = try await s.call("POST", "/v1/spaces", json: ["name": "sp", "kind": "custom", "dim": 3])
        let body = "{\"ids\": [\(ids[0])], \"vectors\": [[1e-300, 3.4028235e38, -2.2250738585e-313]]}"
        let r = try await s.call("PUT", "/v1/spaces/sp/vectors", body: Data(body.utf8), contentType: "application/json")
        #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self))")
        #expect(try await s.call("GET", "/v1/spaces/sp/vectors?ids=\(ids[0])").json?["vectors"]?.arrayValue?.first?.arrayValue?.first == 0)
        let q = try await s.call("POST", "/v1/spaces/sp/search", body: Data(#"{"vectors": [[1e-300, 1, 0]], "k": 1}"#.utf8), contentType: "application/json")
        #expect(q.status == 200, "\(String(decoding: q.body, as: UTF8.self))")
    }

    /// `null` is accepted exactly where the spec says a field is nullable (and inside free-form
    /// JSON such as a function's `properties`), and means the default there.
    @Test(arguments: Backend.all) func nullIsAcceptedWhereTheSpecAllowsIt(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let f = try await s.call("POST", "/v1/functions", body: Data(#"{"functions": [{"repo": "r", "path": "p.py", "qualified_name": "f", "start_line": 1, "end_line": 2, "signature": "def f():", "body": "  pass", "language": null, "properties": {"loc": 2, "note": null}, "content_hash": null, "body_hash": null}]}"#.utf8), contentType: "application/json")
        #expect(f.status == 200, "\(String(decoding: f.body, as: UTF8.self))")
        let id = try #require(f.json?["ids"]?.arrayValue?.first?.intValue)
        let stored = try await s.call("GET", "/v1/functions/\(id)").json
        #expect(stored?["language"] == "python" && stored?["properties"]?["note"] == JSONValue.null)
        let sp = try await s.call("POST", "/v1/spaces", body: Data(#"{"name": "n", "kind": "custom", "dim": 2, "model": null, "layer": null}"#.utf8), contentType: "application/json")
        #expect(sp.status == 201, "\(String(decoding: sp.body, as: UTF8.self))")
    }

    @Test(arguments: Backend.all) func writesNeedTheTokenWhenOneIsSet(_ backend: Backend) async throws {
        let s = try await LiveServer(backend) { $0.token = "s3cret" }
        defer { Task { await s.stop() } }
        let denied = try await s.call("POST", "/v1/spaces", json: ["name": "a", "kind": "sig_mean", "dim": 2])
        #expect(denied.status == 401 && denied.errorCode == "unauthorized")
        let wrong = try await s.call("POST", "/v1/spaces", json: ["name": "a", "kind": "sig_mean", "dim": 2], headers: ["Authorization": "Bearer nope"])
        #expect(wrong.status == 401)
        let ok = try await s.call("POST", "/v1/spaces", json: ["name": "a", "kind": "sig_mean", "dim": 2], headers: ["Authorization": "Bearer s3cret"])
        #expect(ok.status == 201)
        #expect(try await s.call("GET", "/v1/spaces").status == 200)  // reads stay open
        #expect(try await s.call("DELETE", "/v1/spaces/a").status == 401)
    }

    @Test(arguments: Backend.all) func anOversizeBodyIsRefusedWith413(_ backend: Backend) async throws {
        let s = try await LiveServer(backend) { $0.maxBodyBytes = 1024 }
        defer { Task { await s.stop() } }
        // Over URLSession the client sees the JSON 413.
        let r = try await s.call("POST", "/v1/functions", body: Data(count: 4096), contentType: "application/json")
        #expect(r.status == 413 && r.errorCode == "payload_too_large")
    }

    /// `readTimeout` (1 s here) is enforced: a connection that sends nothing, one that trickles a
    /// request head a byte at a time, and an idle keep-alive connection after a full response are all
    /// closed by the server. Each close is observed as an event (poll/recv) within a generous 60 s
    /// bound, so a server without the timeout fails instead of passing slowly; nothing asserts speed.
    @Test(arguments: Backend.all) func aTricklingClientIsCutOff(_ backend: Backend) async throws {
        let s = try await LiveServer(backend) { $0.readTimeout = 1 }
        defer { Task { await s.stop() } }
        let bound = 60.0

        // Sends nothing: only the read timeout can end it.
        let idle = try RawClient(port: s.port)
        let silent = await idle.waitForClose(within: bound)
        #expect(silent.closed, "an idle connection was still open after \(bound) s")
        #expect(silent.data.isEmpty)

        // Trickles a request head, one byte per 100 ms poll: the server hangs up while bytes still come.
        let c = try RawClient(port: s.port)
        #expect(c.send("GET /healthz HTTP/1.1\r\n"))
        var cut = false
        var trickled = 0
        let end = Date().addingTimeInterval(bound)
        while !cut && Date() < end {
            if c.send("X") { trickled += 1 } else { cut = true; break }
            cut = await c.waitForClose(within: 0.1).closed
        }
        #expect(cut, "a client trickling a request head was not cut off within \(bound) s (\(trickled) bytes sent)")

        // A complete request on a keep-alive connection is answered; the idle connection is closed after.
        let k = try RawClient(port: s.port)
        #expect(k.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"))
        let kept = await k.waitForClose(within: bound)
        #expect(String(decoding: kept.data, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        #expect(kept.closed, "an idle keep-alive connection was still open after \(bound) s")

        // A well-behaved client on the same server still works.
        #expect(try await s.call("GET", "/healthz").status == 200)
    }
}

extension RawClient {
    /// Waits until the peer closes the connection (recv gives 0, or the connection resets) or
    /// `seconds` pass; returns whether it closed and the bytes that arrived meanwhile. Polls without
    /// blocking and sleeps between polls as an async task: a blocking wait would hold one of the
    /// cooperative threads that the in-process server needs to close the connection.
    func waitForClose(within seconds: Double) async -> (closed: Bool, data: Data) {
        await waitForData(within: seconds) { _ in false }
    }

    /// The status of the response on a kept-alive connection, waited for as `waitForClose` waits
    /// (until the head is complete, the peer closes, or `seconds` pass).
    func responseStatus(within seconds: Double) async -> Int? {
        let head = String(decoding: await waitForData(within: seconds) { $0.range(of: Data("\r\n\r\n".utf8)) != nil }.data, as: UTF8.self)
        return head.hasPrefix("HTTP/1.1 ") ? Int(head.dropFirst(9).prefix(3)) : nil
    }

    /// Reads until `done(bytes so far)`, the peer closes, or `seconds` pass, without blocking a thread.
    private func waitForData(within seconds: Double, until done: (Data) -> Bool) async -> (closed: Bool, data: Data) {
        var out = Data()
        var buf = [UInt8](repeating: 0, count: 65536)
        let end = Date().addingTimeInterval(seconds)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 0)
            if ready > 0 {
                let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
                if n == 0 { return (true, out) }
                if n > 0 {
                    out.append(contentsOf: buf[0..<n])
                    if done(out) { return (false, out) }
                    continue
                }
                if !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    return (errno == ECONNRESET || errno == EPIPE, out)
                }
            } else if ready < 0 && errno != EINTR {
                return (false, out)
            }
            if end.timeIntervalSinceNow <= 0 { return (false, out) }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }
}
