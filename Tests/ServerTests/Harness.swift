import Core
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
@testable import Server
import Jobs
import Store
import Testing

/// A real server on an ephemeral loopback port over a real SQLite file.
final class LiveServer: @unchecked Sendable {
    let dir: URL
    let server: APIServer
    let port: UInt16
    let task: Task<Void, any Error>
    let search: SearchService
    var base: String { "http://127.0.0.1:\(port)" }

    init(dir: URL? = nil, configure: (inout ServerConfig) -> Void = { _ in }) async throws {
        self.dir = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("swejepa-server-\(UUID().uuidString)")
        var config = ServerConfig()
        config.port = 0
        configure(&config)
        let store = try SQLiteStore(directory: self.dir)
        let search = SearchService(store: store, dataDirectory: self.dir)
        self.search = search
        let ctx = ServiceContext(store: store, config: config, dataDirectory: self.dir, search: search)
        server = try APIServer(context: ctx)
        server.add(routes: APIServer.allRoutes(ctx))
        let s = server
        task = Task { try await s.run() }
        try await server.waitUntilListening()
        port = await server.port()!
    }

    func stop() async {
        await search.stop()
        await server.stop(timeout: 2)
        task.cancel()
    }

    struct Response {
        var status: Int
        var body: Data
        var headers: [String: String]
        var json: JSONValue? { JSONValue.parse(String(decoding: body, as: UTF8.self)) }
        var errorCode: String? { json?["error"]?["code"]?.stringValue }
    }

    /// Sends one request and returns the answer; the exchange is checked against openapi/openapi.yaml
    /// (`checkAgainstOpenAPI`): a response the spec does not describe is an issue of the calling test.
    func call(_ method: String, _ path: String, body: Data? = nil, json: JSONValue? = nil,
              contentType: String? = nil, headers: [String: String] = [:],
              sourceLocation: SourceLocation = #_sourceLocation) async throws -> Response {
        var req = URLRequest(url: URL(string: base + path)!)
        req.httpMethod = method
        if let json {
            req.httpBody = Data(json.jsonString().utf8)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let body { req.httpBody = body }
        if let contentType { req.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: req)
        let http = response as! HTTPURLResponse
        checkAgainstOpenAPI(req, http, data, sourceLocation: sourceLocation)
        var h = [String: String]()
        for (k, v) in http.allHeaderFields { h["\(k)".lowercased()] = "\(v)" }
        return Response(status: http.statusCode, body: data, headers: h)
    }
}

/// A raw TCP client for what URLSession will not do (trickling, exact bytes).
final class RawClient {
    let fd: Int32
    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { throw POSIXError(.ECONNREFUSED) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
    deinit { close(fd) }

    @discardableResult
    func send(_ text: String) -> Bool { send(Data(text.utf8)) }
    @discardableResult
    func send(_ data: Data) -> Bool {
        data.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) == $0.count }
    }
    /// Reads until the peer closes or `timeout` (SO_RCVTIMEO) passes; returns what arrived and whether it closed.
    func readAll() -> (Data, closed: Bool) {
        var out = Data()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n == 0 { return (out, true) }
            if n < 0 { return (out, false) }
            out.append(contentsOf: buf[0..<n])
        }
    }
}

/// The built `swejepa` executable (tests run after `swift build --build-tests`), or `SWEJEPA_BIN`.
func swejepaExecutable() -> URL? {
    if let env = ProcessInfo.processInfo.environment["SWEJEPA_BIN"] { return URL(fileURLWithPath: env) }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return ["debug", "release"].map { root.appendingPathComponent(".build/\($0)/swejepa") }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
}
