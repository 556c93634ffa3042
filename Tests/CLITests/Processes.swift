import Core
import Foundation
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The teacher model folder (`SWEJEPA_MODEL_DIR`, set by `make test`), when it holds the weights.
var modelDirectory: URL? { PackagePaths.modelDirectory(holding: "model.safetensors") }

/// What a finished command left: exit status (nil: killed by a signal or out of time) and its output.
struct Outcome: CustomStringConvertible {
    var status: Int32?
    var stdout: String
    var stderr: String
    var description: String { "exit \(status.map(String.init) ?? "none")\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}

/// Runs an executable to its end (at most `timeout` seconds, then SIGKILL), output captured in files
/// (a pipe could fill and stall the child).
func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 900) async throws -> Outcome {
    let dir = try makeTemporaryDirectory("cli-run")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    process.standardInput = FileHandle.nullDevice
    let status = try await exitStatus(process, timeout: timeout)
    return Outcome(status: status, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
}

/// Runs `swejepa` with its output on a pseudo-terminal (util-linux `script`): stdout and stderr arrive
/// together in `stdout`, with the terminal's CR LF line ends.
func runOnTerminal(_ executable: URL, _ arguments: [String], timeout: Double = 900) async throws -> Outcome {
    let command = ([executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    return try await run(URL(fileURLWithPath: "/usr/bin/script"), ["-q", "-e", "-c", command, "/dev/null"], timeout: timeout)
}

/// Starts `process` and waits for its exit status; nil when it was killed by a signal or ran out of time.
func exitStatus(_ process: Process, timeout: Double) async throws -> Int32? {
    let ended = AsyncStream<Void>.makeStream()
    process.terminationHandler = { _ in ended.continuation.yield(); ended.continuation.finish() }
    try process.run()
    let pid = process.processIdentifier
    let watchdog = Task {
        try await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
        kill(pid, SIGKILL)
    }
    for await _ in ended.stream { break }
    watchdog.cancel()
    return process.terminationReason == .exit ? process.terminationStatus : nil
}

/// Lines of a command's progress output, without the terminal's carriage returns.
func lines(_ text: String) -> [String] {
    text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
}

/// `swejepa serve` as a child process on port 0; the bound port is read back from its first line.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let data: URL
    let log: URL
    private(set) var port: UInt16 = 0
    private let ended = AsyncStream<Void>.makeStream()
    var base: String { "http://127.0.0.1:\(port)" }

    /// Starts the server and waits (up to `startup` seconds) for "listening on http://127.0.0.1:PORT".
    /// `currentDirectory`: where the process runs (default: the test's own working directory).
    init(binary: URL, data: URL, arguments: [String] = [], environment: [String: String] = [:],
         currentDirectory: URL? = nil, startup: Double = 300) async throws {
        self.data = data
        log = data.deletingLastPathComponent().appendingPathComponent(data.lastPathComponent + "-serve-\(UUID().uuidString.prefix(6)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = binary
        process.arguments = ["serve", "--data", data.path, "--port", "0"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        let cont = ended.continuation
        process.terminationHandler = { _ in cont.yield(); cont.finish() }
        try process.run()
        let deadline = Date().addingTimeInterval(startup)
        while port == 0 {
            if let found = Self.boundPort(in: output) { port = found; break }
            guard process.isRunning, Date() < deadline else {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                throw Failure(description: "serve did not report a bound port:\n\(output)")
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Everything the server printed so far.
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    static func boundPort(in text: String) -> UInt16? {
        guard let r = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) else { return nil }
        return UInt16(text[r].split(separator: ":").last!)
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// The exit status once the process ended (within `timeout`); nil when killed by a signal or still running.
    func waitForExit(timeout: Double = 300) async -> Int32? {
        let watchdog = Task { try await Task.sleep(nanoseconds: UInt64(timeout * 1e9)); ended.continuation.finish() }
        for await _ in ended.stream { break }
        watchdog.cancel()
        guard !process.isRunning else { return nil }
        return process.terminationReason == .exit ? process.terminationStatus : nil
    }

    /// Ends the process whatever state it is in (test clean-up).
    func kill9() { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// One HTTP request with a JSON or raw body; the status and parsed JSON (nil for non-JSON bodies).
    @discardableResult
    func call(_ method: String, _ path: String, json: JSONValue? = nil, body: Data? = nil,
              contentType: String? = nil, headers: [String: String] = [:]) async throws -> (status: Int, json: JSONValue?, body: Data) {
        var req = URLRequest(url: URL(string: base + path)!)
        req.httpMethod = method
        req.timeoutInterval = 300
        if let json {
            req.httpBody = Data(json.jsonString().utf8)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let body { req.httpBody = body }
        if let contentType { req.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: req)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, JSONValue.parse(String(decoding: data, as: UTF8.self)), data)
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` seconds pass; returns whether it held.
    func poll(timeout: Double = 300, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        return try await condition()
    }
}

/// A loopback port nothing listens on (bound, read back, closed).
func closedPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return UInt16(bigEndian: addr.sin_port)
}

/// `tmp/data`, whose `models/` holds the default teacher (a link to `SWEJEPA_MODEL_DIR`), laid out as
/// `make run` lays it out: where `swejepa serve` looks for its default model.
func dataDirectoryWithModel(in tmp: URL) throws -> URL {
    let data = tmp.appendingPathComponent("data")
    let models = data.appendingPathComponent("models")
    try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(at: models.appendingPathComponent("all-MiniLM-L6-v2"), withDestinationURL: modelDirectory!)
    return data
}
