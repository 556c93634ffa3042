import FlyingFox
import FlyingSocks
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How long a connection may take: a request head must arrive whole within `headTimeout` seconds
/// (of the connection opening or of its previous response), and a request body must keep moving:
/// every `headTimeout` seconds at least `minBodyBytes` of it arrive, or the connection is closed.
/// Writes obey the same progress rule (a client that stops reading its response is dropped).
///
/// ```swift
/// let limits = ConnectionLimits(headTimeout: 30)   // a 1 MiB body may take up to ~8.5 hours at 1 KiB/30 s; a stalled one is cut after 30 s
/// ```
struct ConnectionLimits: Sendable {
    var headTimeout: Double
    var minBodyBytes: Int = 1024
}

/// A read or write that missed its deadline (head time or body progress).
struct ConnectionTimeout: Error {}

/// The bytes of one accepted connection: a buffer in front of the non-blocking socket, with every
/// wait bounded by a deadline. The head is scanned as bytes arrive (each byte once), so a long or
/// buffered request line costs linear time and is refused at its limit.
///
/// ```swift
/// let io = ConnectionIO(socket: accepted, pool: pool, limits: limits)
/// guard let head = try await io.readHead() else { return }  // nil: the client closed between requests
/// ```
actor ConnectionIO {
    let socket: Socket
    private let pool: any AsyncSocketPool
    let limits: ConnectionLimits
    private var buffer: [UInt8] = []
    private var start = 0
    /// Bytes of the current request's body not yet read (nil: no framed body outstanding).
    private var bodyRemaining = 0
    private var window: (start: ContinuousClock.Instant, bytes: Int) = (.now, 0)
    private(set) var headStarted = false

    init(socket: Socket, pool: any AsyncSocketPool, limits: ConnectionLimits) {
        self.socket = socket
        self.pool = pool
        self.limits = limits
    }

    private var available: Int { buffer.count - start }

    /// Reads the next request head; nil when the client closed (or went quiet past the deadline)
    /// before sending a byte of it. Throws `Refusal` (answer it, then close) or `ConnectionTimeout`.
    func readHead() async throws -> RequestHead? {
        let deadline = ContinuousClock.now + .seconds(limits.headTimeout)
        var scanner = RequestHead.Scanner()
        headStarted = available > 0
        while true {
            if let length = try scanner.end(in: buffer, from: start) {
                let head = try RequestHead.parse(buffer[start..<(start + length)])
                start += length
                return head
            }
            // The deadline holds even when the bytes keep coming (a trickled or huge head).
            if ContinuousClock.now >= deadline {
                if !headStarted { return nil }
                throw ConnectionTimeout()
            }
            guard try await fill(until: deadline, quietEndIsEOF: !headStarted) else {
                if headStarted { throw RequestHead.Refusal.badRequest("the connection closed inside a request head") }
                return nil
            }
            headStarted = true
        }
    }

    /// Starts a body of `count` bytes; `readBody` then hands it out.
    func beginBody(count: Int) {
        bodyRemaining = count
        window = (.now, 0)
    }

    /// Whether the whole body announced was read (otherwise the connection cannot carry another request).
    var bodyComplete: Bool { bodyRemaining == 0 }

    /// Up to `count` bytes of the body (nil at its end); waits under the progress rule.
    func readBody(upTo count: Int) async throws -> [UInt8]? {
        guard bodyRemaining > 0 else { return nil }
        if available == 0 {
            guard try await fillBody() else { throw SocketError.disconnected }
        }
        let n = min(count, available, bodyRemaining)
        let out = Array(buffer[start..<(start + n)])
        start += n
        bodyRemaining -= n
        return out
    }

    /// The rest of the current Content-Length body as one buffer of exactly that many bytes, read
    /// from the socket straight into it: no per-chunk arrays and no copy after the read. The caller
    /// has checked the announced size against its limit, so the allocation is bounded by it; the
    /// progress rule applies as in `readBody` (a stalled body throws `ConnectionTimeout`).
    func readWholeBody() async throws -> Data {
        let count = bodyRemaining
        guard count > 0 else { return Data() }
        guard let raw = malloc(count) else {
            throw RequestHead.Refusal(status: 503, code: "out_of_memory", message: "cannot allocate \(count) bytes for the request body")
        }
        let out = raw.bindMemory(to: UInt8.self, capacity: count)
        do {
            // Bytes that arrived with the head come first.
            let buffered = min(available, count)
            if buffered > 0 {
                for i in 0..<buffered { out[i] = buffer[start + i] }  // at most one 64 KiB read's worth
                start += buffered
                bodyRemaining -= buffered
            }
            while bodyRemaining > 0 {
                let got = Glibc.read(socket.file.rawValue, out + (count - bodyRemaining), bodyRemaining)
                if got > 0 {
                    bodyRemaining -= got
                    window.bytes += got
                    if window.bytes >= limits.minBodyBytes { window = (.now, 0) }
                } else if got == 0 {
                    throw SocketError.disconnected
                } else if errno == EAGAIN || errno == EWOULDBLOCK {
                    try await wait(for: .read, until: window.start + .seconds(limits.headTimeout))
                } else if errno != EINTR {
                    throw SocketError.disconnected
                }
            }
        } catch {
            free(raw)
            throw error
        }
        return Data(bytesNoCopy: raw, count: count, deallocator: .free)
    }

    /// One line of a chunked body (without its CR LF), at most `limit` bytes.
    func readLine(limit: Int) async throws -> [UInt8] {
        var offset = 0  // relative to `start`: bytes already searched
        while true {
            if let nl = buffer[(start + offset)...].firstIndex(of: 0x0A) {
                var line = buffer[start..<nl]
                if line.last == 0x0D { line = line.dropLast() }
                start = nl + 1
                return Array(line)
            }
            offset = available
            if offset > limit { throw RequestHead.Refusal.badRequest("malformed chunked body") }
            guard try await fillBody() else { throw SocketError.disconnected }
        }
    }

    /// Exactly `count` bytes of a chunked body.
    func readExactly(_ count: Int) async throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(min(count, 1 << 20))
        while out.count < count {
            if available == 0 { guard try await fillBody() else { throw SocketError.disconnected } }
            let n = min(count - out.count, available)
            out.append(contentsOf: buffer[start..<(start + n)])
            start += n
        }
        return out
    }

    private func fillBody() async throws -> Bool {
        let before = available
        let ok = try await fill(until: window.start + .seconds(limits.headTimeout), quietEndIsEOF: false)
        window.bytes += available - before
        if window.bytes >= limits.minBodyBytes { window = (.now, 0) }
        return ok
    }

    /// Reads what the socket has (at most 64 KiB); false at end of stream.
    private func fill(until deadline: ContinuousClock.Instant, quietEndIsEOF: Bool) async throws -> Bool {
        if start > 0 && (start == buffer.count || start >= 64 << 10) {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        while true {
            do {
                let bytes = try socket.read(atMost: 64 << 10)
                buffer.append(contentsOf: bytes)
                return true
            } catch SocketError.blocked {
                do {
                    try await wait(for: .read, until: deadline)
                } catch is ConnectionTimeout where quietEndIsEOF {
                    return false
                }
            } catch SocketError.disconnected {
                return false
            }
        }
    }

    /// Writes all of `data`, each wait for the socket bounded by the progress rule.
    func write(_ data: Data) async throws {
        var sent = data.startIndex
        var deadline = ContinuousClock.now + .seconds(limits.headTimeout)
        while sent < data.endIndex {
            do {
                let next = try socket.write(data, from: sent)
                if next - sent >= limits.minBodyBytes { deadline = .now + .seconds(limits.headTimeout) }
                sent = next
            } catch SocketError.blocked {
                try await wait(for: .write, until: deadline)
            }
        }
    }

    /// Waits until the socket is ready, or throws `ConnectionTimeout` at `deadline`.
    private func wait(for events: Socket.Events, until deadline: ContinuousClock.Instant) async throws {
        let remaining = deadline - .now
        guard remaining > .zero else { throw ConnectionTimeout() }
        let socket = self.socket, pool = self.pool
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await pool.suspendSocket(socket, untilReadyFor: events)
                return true
            }
            group.addTask {
                // Not Task.sleep: a cancelled sleep stays allocated until its deadline (see DeadlineTimer).
                guard await DeadlineTimer.shared.wait(until: deadline) else { throw CancellationError() }
                return false
            }
            let ready = try await group.next() ?? false
            group.cancelAll()
            if !ready { throw ConnectionTimeout() }
        }
    }
}

/// A fixed-length request body read from its connection, as FlyingFox's `HTTPBodySequence` wants it.
struct BodyBytes: AsyncBufferedSequence, Sendable {
    typealias Element = UInt8
    let io: ConnectionIO

    func makeAsyncIterator() -> Iterator { Iterator(io: io) }

    struct Iterator: AsyncBufferedIteratorProtocol {
        let io: ConnectionIO
        mutating func next() async throws -> UInt8? { try await io.readBody(upTo: 1)?.first }
        mutating func nextBuffer(suggested count: Int) async throws -> [UInt8]? { try await io.readBody(upTo: Swift.max(1, count)) }
    }
}

/// The connection whose Content-Length body the request being handled may take whole with
/// `ConnectionIO.readWholeBody()` (set by the listener around its handler, only for such bodies).
enum RequestBodySource {
    @TaskLocal static var connection: ConnectionIO?
}
