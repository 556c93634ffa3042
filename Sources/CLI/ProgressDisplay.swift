import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Progress for long commands: a redrawn bar on a terminal, plain lines (at most one per 5% or 10 s)
/// when the output is a pipe or a file. Used by one task at a time (not `Sendable`).
final class ProgressDisplay {
    let label: String
    let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastLine = ""
    private var lastPlain = -1.0
    private var lastPlainTime = Date.distantPast
    /// The latest plain line not written yet (rate-limited away); `finish` writes it, so a pipe's
    /// last line is the final state ("100% succeeded"), not the last one that happened to pass the limit.
    private var pendingPlain: String?
    private let started = Date()

    init(label: String) { self.label = label }

    func update(fraction: Double, message: String) {
        let f = min(1, max(0, fraction))
        let elapsed = Date().timeIntervalSince(started)
        let eta = f > 0.01 && f < 1 ? String(format: " eta %.0fs", elapsed / f - elapsed) : ""
        if isTerminal {
            let width = 30
            let filled = Int(f * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            var line = String(format: "%@ %@ %3.0f%% %@%@", label, bar, f * 100, message, eta)
            if line.count > 120 { line = String(line.prefix(120)) }
            if line != lastLine {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
                lastLine = line
            }
        } else {
            let line = String(format: "%@ %3.0f%% %@%@\n", label, f * 100, message, eta)
            if f - lastPlain >= 0.05 || Date().timeIntervalSince(lastPlainTime) >= 10 || (f >= 1 && lastPlain < 1) {
                FileHandle.standardError.write(Data(line.utf8))
                lastPlain = f
                lastPlainTime = Date()
                pendingPlain = nil
            } else {
                pendingPlain = line
            }
        }
    }

    func finish() {
        if isTerminal && !lastLine.isEmpty { FileHandle.standardError.write(Data("\n".utf8)) }
        if let pendingPlain { FileHandle.standardError.write(Data(pendingPlain.utf8)); self.pendingPlain = nil }
    }
}
