import Foundation

/// The PyTorch sig_predictor of `scripts/reference/training_torch.py`, run as a child process in its
/// `--serve` mode so `Bench training` can alternate rounds of its own steps with rounds of PyTorch's
/// (same shapes, same thread count, one warmed-up model on each side for the whole run).
///
/// ```swift
/// let torch = try TorchTrainer(python: "python3", threads: 2, batch: 64, tokens: 32, layers: 2)
/// let seconds = try torch.steps(5)      // five timed PyTorch training steps
/// torch.close()
/// ```
final class TorchTrainer {
    /// The script, relative to the package root (`make bench` runs from there).
    static let script = "scripts/reference/training_torch.py"

    let process = Process()
    private let input = Pipe(), output = Pipe()
    private var buffer = Data()
    /// `torch.__version__`, its parameter count and thread count, as the script reported them.
    private(set) var version = "?", parameters = 0, threads = 0, mkl = false

    /// Starts the script (through `/usr/bin/env`, so `python` may be a name on PATH) and waits for its
    /// warm-up. Throws with the reason when it cannot start or does not report ready (e.g. no torch).
    init(python: String, threads: Int, batch: Int, tokens: Int, layers: Int) throws {
        guard FileManager.default.fileExists(atPath: Self.script) else { throw BenchError("\(Self.script) not found (run from the package root)") }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, Self.script, "--serve", "--threads", "\(threads)", "--batch", "\(batch)",
                             "--tokens", "\(tokens)", "--layers", "\(layers)"]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        guard let ready = try readJSON(), ready["ready"] as? Bool == true else {
            throw BenchError("\(python) \(Self.script) did not start (is torch installed?)")
        }
        version = ready["torch"] as? String ?? "?"
        parameters = ready["parameters"] as? Int ?? 0
        self.threads = ready["threads"] as? Int ?? 0
        mkl = ready["mkl"] as? Bool ?? false
    }

    /// Times `n` PyTorch training steps; returns each one's seconds.
    func steps(_ n: Int) throws -> [Double] {
        input.fileHandleForWriting.write(Data("\(n)\n".utf8))
        guard let reply = try readJSON(), let times = reply["step_seconds"] as? [Double], times.count == n else {
            throw BenchError("the PyTorch trainer stopped answering")
        }
        return times
    }

    /// Ends the child (closing its stdin ends its loop) and waits for it.
    func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// The next line of the child's stdout as a JSON object (nil at end of output).
    private func readJSON() throws -> [String: Any]? {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<nl]
                buffer = Data(buffer[(nl + 1)...])
                return try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}

/// A bench failure with its reason.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
