import Core
import FlyingFox
import FlyingSocks
import Foundation

/// One connection's request loop: read a head, frame its body, call the handler, write the response.
extension HTTPListener {
    func serveConnection(_ socket: Socket) async {
        defer { try? socket.close() }
        let io = ConnectionIO(socket: socket, pool: pool, limits: options.limits)
        let peer = (try? socket.remotePeer()).map(HTTPRequest.Address.make)
        do {
            try socket.setFlags(.nonBlocking)
            while !Task.isCancelled {
                guard let head = try await io.readHead() else { return }
                // Before the body is read (FlyingFox logged the same line at the same point).
                options.logger.logDebug("<\(peer.map(Self.host) ?? "?")> request: \(head.method) \(head.path)")
                let request = try await makeRequest(head, io: io, peer: peer)
                // A Content-Length body is read whole by the dispatcher, straight into one buffer.
                let whole = head.headers[.contentLength].flatMap { Int($0) }.map { $0 > 0 } == true
                var response = await RequestBodySource.$connection.withValue(whole ? io : nil) { await respond(to: request) }
                let bodyComplete = await io.bodyComplete
                let keepAlive = Self.keepsAlive(request) && response.headers[HTTPHeader.connection]?.lowercased() != "close"
                    && bodyComplete
                if !keepAlive {
                    response.headers[HTTPHeader.connection] = "close"
                } else if response.headers[HTTPHeader.connection] == nil, let c = request.headers[HTTPHeader.connection] {
                    response.headers[HTTPHeader.connection] = c
                }
                try await send(response, on: io)
                if !keepAlive { return }
            }
        } catch let refusal as RequestHead.Refusal {
            // Malformed or oversized framing: say why, then close (the stream cannot be trusted further).
            var response = HTTPResponse.error(refusal.apiError)
            response.headers[HTTPHeader.connection] = "close"
            try? await send(response, on: io)
        } catch {
            // Client disconnects, timeouts, a stop: ordinary, so only at debug.
            options.logger.logDebug("connection \(peer.map { "\($0)" } ?? "?") ended: \(error)")
        }
    }

    static func host(_ a: HTTPRequest.Address) -> String {
        switch a {
        case .ip4(let ip, _), .ip6(let ip, _): ip
        case .unix(let path): path
        }
    }

    /// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only when asked to keep it.
    static func keepsAlive(_ request: HTTPRequest) -> Bool {
        let connection = request.headers[HTTPHeader.connection]?.lowercased() ?? ""
        if request.version == .http11 { return !connection.contains("close") }
        return connection.contains("keep-alive")
    }

    private func makeRequest(_ head: RequestHead, io: ConnectionIO, peer: HTTPRequest.Address?) async throws -> HTTPRequest {
        let contentLength = head.headers[.contentLength], transferEncoding = head.headers[.transferEncoding]
        var body = HTTPBodySequence(data: Data())
        if transferEncoding != nil && contentLength != nil {
            throw RequestHead.Refusal.badRequest("Content-Length and Transfer-Encoding cannot both be present")
        }
        if let transferEncoding {
            guard transferEncoding.split(separator: ",").last?.trimmingCharacters(in: .whitespaces).lowercased() == "chunked" else {
                throw RequestHead.Refusal.badRequest("unsupported Transfer-Encoding")
            }
            body = HTTPBodySequence(data: try await readChunked(io))
        } else if let contentLength {
            guard let n = Int(contentLength), n >= 0 else { throw RequestHead.Refusal.badRequest("invalid Content-Length") }
            if n > 0 {
                await io.beginBody(count: n)
                body = HTTPBodySequence(from: BodyBytes(io: io), count: n, suggestedBufferSize: 64 << 10)
            }
        }
        return HTTPRequest(method: HTTPMethod(head.method), version: HTTPVersion(head.version), path: head.path,
                           query: head.query, headers: HTTPHeaders(head.headers), body: body, remoteAddress: peer)
    }

    /// A chunked body decoded whole (at most `maxBodyBytes`, else 413 and close).
    private func readChunked(_ io: ConnectionIO) async throws -> Data {
        var data = Data()
        await io.beginBody(count: 0)
        while true {
            let line = try await io.readLine(limit: 1024)
            let sizeText = String(decoding: line.prefix { $0 != UInt8(ascii: ";") }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            guard !sizeText.isEmpty, sizeText.count <= 15, let size = Int(sizeText, radix: 16), size >= 0 else {
                throw RequestHead.Refusal.badRequest("malformed chunk size")
            }
            if size == 0 { break }
            guard data.count <= options.maxBodyBytes - size else {
                throw RequestHead.Refusal(status: 413, code: "payload_too_large",
                                          message: "chunked request body exceeds the limit of \(options.maxBodyBytes) bytes")
            }
            data.append(contentsOf: try await io.readExactly(size))
            guard try await io.readLine(limit: 2).isEmpty else { throw RequestHead.Refusal.badRequest("malformed chunk end") }
        }
        // Trailer fields, up to the blank line.
        var trailers = 0
        while !(try await io.readLine(limit: 8 << 10)).isEmpty {
            trailers += 1
            if trailers > 64 { throw RequestHead.Refusal.badRequest("too many trailer fields") }
        }
        return data
    }

    /// The handler's answer, or 500 once `requestTimeout` passes.
    private func respond(to request: HTTPRequest) async -> HTTPResponse {
        let handler = self.handler, timeout = options.requestTimeout
        return await withTaskGroup(of: HTTPResponse?.self) { group in
            group.addTask { await handler(request) }
            group.addTask {
                // Not Task.sleep: a cancelled sleep stays allocated until its deadline (see DeadlineTimer).
                guard await DeadlineTimer.shared.wait(until: .now + .seconds(timeout)) else { return nil }
                return HTTPResponse.error(APIError(status: 500, code: "internal", message: "the request took longer than \(Int(timeout)) s"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? HTTPResponse.error(APIError(status: 503, code: "stopping", message: "the server is stopping"))
        }
    }

    func send(_ response: HTTPResponse, on io: ConnectionIO) async throws {
        guard case .httpBody(let body) = response.payload else {
            throw RequestHead.Refusal(status: 500, code: "internal", message: "unsupported response payload")
        }
        var pending: Data? = Self.encodeHead(response, bodyCount: body.count)
        for try await chunk in body {
            if var head = pending, head.count + chunk.count <= 256 << 10 {
                head.append(chunk)
                try await io.write(head)
            } else {
                if let head = pending { try await io.write(head) }
                try await io.write(chunk)
            }
            pending = nil
        }
        if let head = pending { try await io.write(head) }
    }

    /// Status line and headers; Content-Length when the body's size is known, else chunked (FlyingFox's
    /// `HTTPBodySequence(from:)` already chunk-encodes such bodies).
    static func encodeHead(_ response: HTTPResponse, bodyCount: Int?) -> Data {
        var headers = response.headers
        if let bodyCount {
            if headers[.contentLength] == nil { headers[.contentLength] = String(bodyCount) }
        } else {
            headers[.transferEncoding] = "chunked"
        }
        var text = "\(response.version.rawValue) \(response.statusCode.code) \(response.statusCode.phrase)\r\n"
        for (name, value) in headers.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            text += "\(name.rawValue): \(value)\r\n"
        }
        text += "\r\n"
        return Data(text.utf8)
    }
}

