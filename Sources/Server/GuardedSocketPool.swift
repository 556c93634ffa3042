import FlyingSocks
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Tracks when each connection last finished a request, so reads can be cut off after a deadline.
final class ConnectionGuard: Sendable {
    private let lastActivity = Mutex<[String: Double]>([:])
    let readTimeout: Double

    init(readTimeout: Double) { self.readTimeout = readTimeout }

    /// Called when a response is ready: the connection's next request head has a fresh deadline.
    func touch(peer: String) {
        let now = Date().timeIntervalSince1970
        lastActivity.withLock { $0[peer] = now }
    }

    /// The time by which `peer` must have delivered its next request head.
    func deadline(peer: String) -> Double {
        let now = Date().timeIntervalSince1970
        let readTimeout = self.readTimeout
        return lastActivity.withLock { lastActivity in
            if let t = lastActivity[peer] { return t + readTimeout }
            lastActivity[peer] = now
            if lastActivity.count > 50_000 {  // forget connections long gone
                lastActivity = lastActivity.filter { now - $0.value < 4 * readTimeout }
            }
            return now + readTimeout
        }
    }
}

struct ReadTimeoutError: Error {}

/// Wraps FlyingFox's socket pool to (1) set TCP_NODELAY on the listening socket, which Linux copies to
/// every accepted connection (FlyingFox never sets it: each keep-alive response would wait ~40 ms
/// for a delayed ACK), and (2) close connections whose next request head does not arrive in time.
struct GuardedSocketPool<Inner: AsyncSocketPool>: AsyncSocketPool {
    let inner: Inner
    let connections: ConnectionGuard
    private let listeners = ListenerSet()

    init(inner: Inner, connections: ConnectionGuard) {
        self.inner = inner
        self.connections = connections
    }

    func prepare() async throws { try await inner.prepare() }
    func run() async throws { try await inner.run() }

    func suspendSocket(_ socket: Socket, untilReadyFor events: Socket.Events) async throws {
        let fd = socket.file.rawValue
        if listeners.isListener(fd) || !events.contains(.read) {
            return try await inner.suspendSocket(socket, untilReadyFor: events)
        }
        guard let peer = Self.peerName(fd) else {
            return try await inner.suspendSocket(socket, untilReadyFor: events)
        }
        let remaining = connections.deadline(peer: peer) - Date().timeIntervalSince1970
        if remaining <= 0 { throw ReadTimeoutError() }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await inner.suspendSocket(socket, untilReadyFor: events)
                return true
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(remaining * 1e9))
                return false
            }
            let ready = try await group.next() ?? false
            group.cancelAll()
            if !ready { throw ReadTimeoutError() }
        }
    }

    /// "ip:port" of a connected socket, the same text `HTTPRequest.remoteAddress` gives.
    static func peerName(_ fd: Int32) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var serv = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let ok = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &serv, socklen_t(serv.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard ok == 0 else { return nil }
        return String(cString: host) + ":" + String(cString: serv)
    }
}

/// Remembers which descriptors are listening sockets (and sets TCP_NODELAY on them once).
final class ListenerSet: Sendable {
    private let known = Mutex<Set<Int32>>([])

    func isListener(_ fd: Int32) -> Bool {
        known.withLock { known in
            if known.contains(fd) { return true }
            var accepting: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            let listening = getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting != 0
            if listening {
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                known.insert(fd)
            }
            return listening
        }
    }
}
