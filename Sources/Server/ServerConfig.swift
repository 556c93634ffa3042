import Core
import Foundation

/// How `swejepa serve` listens and protects itself.
public struct ServerConfig: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 picks a free port (tests); read it back from `APIServer.port()`.
    public var port: UInt16 = 8080
    /// With a token, every POST/PUT/PATCH/DELETE needs `Authorization: Bearer <token>` (and every
    /// read too with `auth = .reads`).
    public var token: String?
    /// Which requests need the token (`--auth writes|reads`).
    public var auth: AuthScope = .writes
    /// Largest accepted request body (413 past it, decided from Content-Length before reading).
    public var maxBodyBytes: Int = 256 << 20
    /// A connection must deliver a complete request head within this many seconds of opening or of
    /// its previous response; idle keep-alive connections and trickling clients are closed after it.
    /// Bodies and responses must move at least 1 KiB per this many seconds (`ConnectionLimits`).
    public var readTimeout: Double = 30
    /// Connections served at once (past it: 503 and close); 0: derived from the open-file limit
    /// (`FileDescriptorLimit.defaultMaxConnections`).
    public var maxConnections: Int = 0
    /// Longest a handler may run, body upload included.
    public var requestTimeout: Double = 600
    /// `error`, `warning`, `info` (one line per request) or `debug`.
    public var logLevel: LogLevel = .warning

    public init() {}
}
