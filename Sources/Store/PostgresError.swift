import Core

/// An error from PostgreSQL or libpq: the SQLSTATE when the server sent one, whether the connection
/// was lost, and the server's message (which may name tables and values: logged, never sent to
/// clients). A lost connection, an administrator shutdown (`57P01`–`57P03`), any `08xxx` state,
/// "too many connections" (`53300`), a serialization failure or deadlock are 503
/// `store_unavailable`; a full disk (`53100`) is 507 `storage_full`; anything else is 500 `internal`.
///
/// ```swift
/// APIError(PostgresError(sqlState: "57P01", connectionLost: true, message: "terminating connection")).status  // 503
/// ```
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// The five-character SQLSTATE (`23505`, `57P01`, …), nil when libpq failed without one.
    public var sqlState: String?
    /// The connection is gone: a read may be retried on a fresh one; a write is not retried.
    public var connectionLost: Bool
    public var message: String

    public init(sqlState: String? = nil, connectionLost: Bool = false, message: String) {
        self.sqlState = sqlState
        self.connectionLost = connectionLost
        self.message = message
    }

    public var description: String { "PostgreSQL error \(sqlState ?? "(no SQLSTATE)"): \(message)" }

    /// `23505`: a unique constraint refused the row.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// `23503`: a foreign key points nowhere.
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// Class 23: any integrity constraint (SQLite's `SQLITE_CONSTRAINT`).
    public var isConstraint: Bool { sqlState?.hasPrefix("23") == true }

    /// SQLSTATEs that mean the connection (or the server behind it) is gone.
    static func isConnectionState(_ state: String?) -> Bool {
        guard let state else { return false }
        return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
    }
}

extension PostgresError: CategorizedError {
    public var category: ErrorCategory {
        if connectionLost || Self.isConnectionState(sqlState) { return .unavailable }
        switch sqlState {
        case "53100": return .storageFull
        case "53300", "40001", "40P01", "55P03", "57014": return .unavailable
        default: return .internalFailure
        }
    }

    public var code: String {
        switch category {
        case .storageFull: "storage_full"
        case .unavailable: "store_unavailable"
        default: "internal"
        }
    }

    public var clientMessage: String { APIError.genericMessage(category) }
}
