import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A raw loopback TCP client, for what URLSession will not do (trickling, exact bytes, a body in parts).
public final class RawClient {
    /// The socket; -1 once `close()` ran.
    public private(set) var fd: Int32

    /// Connects to 127.0.0.1:`port` (from `localPort` when given, SO_REUSEADDR set: a client reusing
    /// its port); reads give up after `timeout` seconds without data (SO_RCVTIMEO).
    public init(port: UInt16, timeout: Int = 10, localPort: UInt16? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let localPort {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var local = Self.loopback(localPort)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound != 0 { Glibc.close(fd); fd = -1; throw POSIXError(.EADDRINUSE) }
        }
        var addr = Self.loopback(port)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { Glibc.close(fd); fd = -1; throw POSIXError(.ECONNREFUSED) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
    deinit { close() }

    /// Closes the socket now (idempotent: a second close of a number another test's socket may
    /// already have reused would close that one).
    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    /// 127.0.0.1:`port` as a socket address.
    static func loopback(_ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    /// The local port this client connected from.
    public var localPort: UInt16 {
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return UInt16(bigEndian: addr.sin_port)
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Data(text.utf8)) }
    @discardableResult
    public func send(_ data: Data) -> Bool {
        data.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) == $0.count }
    }

    /// Reads until the peer closes or the read timeout passes; returns what arrived and whether it closed.
    public func readAll() -> (Data, closed: Bool) {
        var out = Data()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n == 0 { return (out, true) }
            if n < 0 { return (out, false) }
            out.append(contentsOf: buf[0..<n])
        }
    }

    /// The status code of the response (reads until the head is complete, the peer closes or the read timeout passes).
    public func responseStatus() -> Int? {
        var out = Data()
        var buf = [UInt8](repeating: 0, count: 65536)
        while !String(decoding: out, as: UTF8.self).contains("\r\n\r\n") {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        let head = String(decoding: out, as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(head.dropFirst(9).prefix(3))
    }
}
