/// Job states: queued → running → succeeded / failed / cancelled. The raw values are the wire
/// and store spelling.
///
///     let s = try JSONDecoder().decode(JobState.self, from: Data("\"failed\"".utf8))
///     s.isFinal   // true
public enum JobState: String, Codable, Sendable, CaseIterable {
    case queued, running, succeeded, failed, cancelled
    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// Severity of a log line: a job's log (stored and sent as `"info"`, `"warning"`, …) and the
/// server's stderr threshold. Ordered: `debug < info < warning < error`.
///
///     await ctx.log("3 files skipped", level: .warning)
///     LogLevel(name: "WARN")          // .warning
///     LogLevel.info < .error          // true
public enum LogLevel: String, Codable, Sendable, CaseIterable, Comparable {
    case debug, info, warning, error

    /// Parses a level name, case-insensitive; also accepts `warn`.
    public init?(name: String) {
        let n = name.lowercased()
        if n == "warn" { self = .warning } else if let l = LogLevel(rawValue: n) { self = l } else { return nil }
    }

    private var order: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warning: 2
        case .error: 3
        }
    }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.order < b.order }
}
