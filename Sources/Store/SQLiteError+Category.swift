import CSQLite
import Core

/// How storage faults reach clients: never as SQLite's own text. A full disk is a 507
/// `storage_full`; a store that stays busy or locked past the busy timeout, or cannot be opened,
/// is a 503 `store_unavailable` (retry later); anything else a 500 `internal`. The detail (code and
/// SQLite's message) is the error's `description`, which the server logs.
///
/// ```swift
/// APIError(SQLiteError(code: SQLITE_FULL, message: "database or disk is full")).status   // 507
/// ```
extension SQLiteError: CategorizedError {
    public var category: ErrorCategory {
        switch resultCode & 0xff {
        case SQLITE_FULL: .storageFull
        case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN, SQLITE_PROTOCOL: .unavailable
        default: .internalFailure
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
