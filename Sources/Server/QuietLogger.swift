import FlyingSocks
import Core
import Foundation

/// FlyingFox's default logger prints every connection; ours writes to stderr only at or above a level,
/// and FlyingFox's own per-connection chatter (open/close/request) only at `debug`.
public struct QuietLogger: Logging {
    public var level: LogLevel
    public init(level: LogLevel) { self.level = level }

    func write(_ level: LogLevel, _ text: @autoclosure () -> String) {
        guard level >= self.level else { return }
        let line = "\(ISO8601DateFormatter().string(from: Date())) \(level) \(text())\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    public func logDebug(_ debug: @autoclosure () -> String) { write(.debug, debug()) }
    // FlyingFox logs every open/close/request at info: keep those at debug.
    public func logInfo(_ info: @autoclosure () -> String) { write(.debug, info()) }
    public func logWarning(_ warning: @autoclosure () -> String) { write(.warning, warning()) }
    public func logError(_ error: @autoclosure () -> String) { write(.debug, error()) }  // client disconnects etc.
    public func logCritical(_ critical: @autoclosure () -> String) {
        let text = critical()
        // FlyingFox reports its own shutdown ("CancellationError") and a peer going away
        // ("SocketError. Disconnected") as server errors: neither is one for us.
        let ordinary = text.contains("CancellationError") || text.contains("SocketError. Disconnected")
        write(ordinary ? .debug : .error, text)
    }

    /// Our own request log line (info).
    public func request(_ line: @autoclosure () -> String) { write(.info, line()) }
    public func info(_ line: @autoclosure () -> String) { write(.info, line()) }
    public func warning(_ line: @autoclosure () -> String) { write(.warning, line()) }
    public func error(_ line: @autoclosure () -> String) { write(.error, line()) }
}
