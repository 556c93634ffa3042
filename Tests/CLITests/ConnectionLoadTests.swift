import Core
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The release `swejepa serve` under many connections (issue 12, item 2 and the load check): idle
/// connections past its open-file limit do not end it (it used to exit 0 when `accept` failed), and
/// 1,000 idle connections do not keep a working client from being served.
@Suite(.serialized, .enabled(if: SwejepaBinary.release != nil, "needs .build/release/swejepa (make test builds it)"))
struct ConnectionLoadTests {
    let bin = SwejepaBinary.release!

    /// Opens up to `count` idle loopback connections (stops early if the server refuses to accept).
    func openIdle(_ count: Int, port: UInt16) -> [RawClient] {
        (0..<count).compactMap { _ in try? RawClient(port: port, timeout: 1) }
    }

    /// A shell wrapper that runs the release binary with a soft and hard open-file limit of `limit`.
    func limitedBinary(_ limit: Int, in dir: URL) throws -> URL {
        let script = dir.appendingPathComponent("swejepa-ulimit-\(limit)")
        try "#!/bin/sh\nulimit -n \(limit)\nexec '\(bin.path)' \"$@\"\n".write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        return script
    }

    @Test(arguments: [nil, "1000"])
    func moreIdleConnectionsThanDescriptorsDoNotStopTheServer(_ maxConnections: String?) async throws {
        FileDescriptorLimitForTests.raise()
        let tmp = try makeTemporaryDirectory("cli-fd")
        defer { removeTemporaryDirectory(tmp) }
        // --max-connections 1000 over a limit of 256 makes `accept` itself run out of descriptors.
        let s = try await ServerProcess(binary: try limitedBinary(256, in: tmp), data: tmp.appendingPathComponent("data"),
                                        arguments: maxConnections.map { ["--max-connections", $0] } ?? [])
        defer { s.kill9() }
        var idle = openIdle(400, port: s.port)
        #expect(idle.count > 256)
        // While they are open the process lives, with descriptors to spare: the ones past its socket
        // budget wait in the listen backlog (at the limit, libdispatch's worker monitor failed to
        // open /proc/<tid>/stat and killed the process with SIGILL); once they close, /healthz is
        // answered again.
        try await Task.sleep(nanoseconds: 1_000_000_000)
        #expect(s.process.isRunning, "serve ended with the descriptors exhausted:\n\(s.output.suffix(2000))")
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(s.process.processIdentifier)/fd"))?.count
        #expect(open != nil && open! <= 256 - 16, "\(open ?? -1) descriptors open of 256")
        #expect(!s.output.contains("Too many open files"), "\(s.output.suffix(2000))")
        idle.removeAll()
        let served = await s.poll(timeout: 120) { (try? await s.call("GET", "/healthz"))?.status == 200 }
        #expect(served, "/healthz not answered after the idle connections closed:\n\(s.output.suffix(2000))")
        #expect(s.process.isRunning)
        s.signal(SIGTERM)
        #expect(await s.waitForExit() == 0)
    }

    @Test func aClientIsServedBeside1000IdleConnections() async throws {
        FileDescriptorLimitForTests.raise()
        let tmp = try makeTemporaryDirectory("cli-load")
        defer { removeTemporaryDirectory(tmp) }
        let s = try await ServerProcess(binary: bin, data: tmp.appendingPathComponent("data"))
        defer { s.kill9() }
        let idle = openIdle(1000, port: s.port)
        #expect(idle.count == 1000)
        var ok = 0
        for _ in 0..<50 where (try? await s.call("GET", "/healthz"))?.status == 200 { ok += 1 }
        #expect(ok == 50)
        #expect(s.process.isRunning)
        _ = idle.count
        // Clients going away are ordinary: nothing about them at the default log level (item 11).
        s.signal(SIGTERM)
        #expect(await s.waitForExit() == 0)
        #expect(!s.output.contains("SocketError") && !s.output.contains("error"), "\(s.output.suffix(2000))")
    }
}

/// The test process's own open-file limit, raised to its hard maximum (1,000 client sockets).
enum FileDescriptorLimitForTests {
    static func raise() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
