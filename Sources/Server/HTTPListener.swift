import Core
import FlyingFox
import FlyingSocks
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Accepts TCP connections and serves HTTP/1.1 on them with FlyingFox's request and response types,
/// but its own accept loop and request reading (FlyingFox's own let a full descriptor table end the
/// server, parsed request lines in quadratic time, and timed nothing it had already buffered).
///
/// - At most `maxConnections` connections are served at once; one past it is answered 503 and closed.
/// - At most `socketBudget` accepted sockets are open at once (served and being refused): past it
///   the loop stops accepting until one closes, and new clients wait in the listen backlog, so the
///   process never runs out of descriptors (where libdispatch kills it, see `FileDescriptorLimit`).
/// - `accept` failing for want of descriptors or memory is retried with a backoff; any other
///   failure of the listener ends `run` with an error (never a silent return).
/// - Heads: request line ≤ 64 KiB (else 414), headers ≤ 64 KiB (else 431), whole within the head
///   timeout even when buffered; malformed framing is answered 400; all three close the connection.
/// - Bodies and responses: the progress rule of `ConnectionLimits`.
///
/// ```swift
/// let listener = HTTPListener(options: options) { request in HTTPResponse(statusCode: .ok) }
/// try await listener.run()   // until stop()
/// ```
final class HTTPListener: Sendable {
    struct Options: Sendable {
        var address: any SocketAddress & Sendable
        var family: Int32
        var limits: ConnectionLimits
        var maxConnections: Int
        /// Accepted sockets open at once, at most (`FileDescriptorLimit.socketBudget`).
        var socketBudget: Int
        var requestTimeout: Double
        /// Largest chunked body decoded (413 past it); fixed-length bodies are left to the handler.
        var maxBodyBytes: Int
        var logger: QuietLogger
    }

    typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse

    private struct State {
        var port: UInt16?
        var task: Task<Void, any Error>?
        var stopping = false
        var failure: (any Error)?
        var open = 0
        var refusing = 0
    }

    let options: Options
    let handler: Handler
    let pool: any AsyncSocketPool = HTTPServer.defaultPool()
    private let state = Mutex(State())

    init(options: Options, handler: @escaping Handler) {
        self.options = options
        self.handler = handler
    }

    /// Connections being served now.
    var openConnections: Int { state.withLock { $0.open } }
    /// The bound port once listening.
    var port: UInt16? { state.withLock { $0.port } }

    /// Listens and serves until `stop()`; throws when the listener fails (it never just returns then).
    func run() async throws {
        let task = Task { try await self.serve() }
        state.withLock { $0.task = task }
        do {
            try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        } catch {
            if state.withLock({ $0.stopping }) { return }
            state.withLock { $0.failure = error }
            throw error
        }
        if !state.withLock({ $0.stopping }) { throw ListenerEnded() }
    }

    struct ListenerEnded: Error, CustomStringConvertible { var description: String { "the listener ended unexpectedly" } }

    /// Stops accepting, cancels the connections and waits up to `timeout` seconds for them to end.
    func stop(timeout: Double) async {
        let task = state.withLock { s -> Task<Void, any Error>? in s.stopping = true; return s.task }
        task?.cancel()
        if let task { _ = await waitForAll([Task { _ = try? await task.value }], upTo: timeout) }
    }

    /// Waits until the socket listens (or `run` failed).
    func waitUntilListening(timeout: Double) async throws {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            let (port, failure) = state.withLock { ($0.port, $0.failure) }
            if port != nil { return }
            if let failure { throw failure }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        throw SocketError.timeout(message: "not listening after \(timeout) s")
    }

    private func serve() async throws {
        try await pool.prepare()
        let socket = try Socket(domain: options.family)
        defer { try? socket.close() }
        try socket.setValue(true, for: .localAddressReuse)
        // Linux copies TCP_NODELAY to accepted sockets (without it every keep-alive response waits ~40 ms).
        var one: Int32 = 1
        _ = setsockopt(socket.file.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        try socket.setFlags(.nonBlocking)
        try socket.bind(to: options.address)
        try socket.listen()
        let bound: UInt16? = switch try socket.sockname() {
        case .ip4(_, let port), .ip6(_, let port): port
        case .unix: 0
        }
        state.withLock { $0.port = bound }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.pool.run() }
            group.addTask { try await self.acceptLoop(socket) }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Errors of `accept` that say "not now" (descriptors or memory short, an aborted handshake).
    static let retriedAcceptErrors: Set<Int32> = [EMFILE, ENFILE, ENOBUFS, ENOMEM, ECONNABORTED, EINTR, EPROTO, EPERM]

    private func acceptLoop(_ listener: Socket) async throws {
        var backoff = 0.01
        var lastWarning = Date.distantPast, lastFull = Date.distantPast
        if options.maxConnections > options.socketBudget {
            options.logger.warning("--max-connections \(options.maxConnections) is more than the open-file limit " +
                                   "(\(FileDescriptorLimit.current)) leaves room for: past \(options.socketBudget) " +
                                   "sockets new connections wait in the listen backlog")
        }
        try await withThrowingDiscardingTaskGroup { group in
            while true {
                try Task.checkCancellation()
                if state.withLock({ $0.open + $0.refusing }) >= options.socketBudget {
                    if Date().timeIntervalSince(lastFull) > 10 {
                        lastFull = Date()
                        options.logger.warning("\(options.socketBudget) sockets open, all the open-file limit " +
                                               "leaves room for; new connections wait until one closes")
                    }
                    try await Task.sleep(nanoseconds: 10_000_000)
                    continue
                }
                let file: Socket.FileDescriptor
                do {
                    file = try listener.accept().file
                } catch SocketError.blocked {
                    try await pool.suspendSocket(listener, untilReadyFor: .connection)
                    continue
                } catch SocketError.failed(_, let code, let message) where Self.retriedAcceptErrors.contains(code) {
                    if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                        if Date().timeIntervalSince(lastWarning) > 10 {
                            lastWarning = Date()
                            options.logger.warning("accept failed (\(message)); retrying with backoff — \(openConnections) connections open")
                        }
                        try await Task.sleep(nanoseconds: UInt64(backoff * 1e9))
                        backoff = min(backoff * 2, 1)
                    }
                    continue
                }
                backoff = 0.01
                let connection = Socket(file: file)
                let admitted = state.withLock { s in
                    if s.open >= options.maxConnections { s.refusing += 1; return false }
                    s.open += 1
                    return true
                }
                group.addTask {
                    if admitted {
                        await self.serveConnection(connection)
                        self.state.withLock { $0.open -= 1 }
                    } else {
                        await self.refuse(connection)
                        self.state.withLock { $0.refusing -= 1 }
                    }
                }
            }
        }
    }

    /// Over the connection cap: 503 and close, within 5 s (the socket budget bounds how many wait).
    private func refuse(_ socket: Socket) async {
        defer { try? socket.close() }
        try? socket.setFlags(.nonBlocking)
        let io = ConnectionIO(socket: socket, pool: pool, limits: ConnectionLimits(headTimeout: 5))
        let error = APIError(status: 503, code: "too_many_connections",
                             message: "the server has \(options.maxConnections) connections open; retry later")
        var response = HTTPResponse.error(error)
        response.headers[HTTPHeader.connection] = "close"
        try? await send(response, on: io)
    }
}
