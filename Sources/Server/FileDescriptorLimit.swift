import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit (RLIMIT_NOFILE) and the connection cap derived from it.
///
/// ```swift
/// let soft = FileDescriptorLimit.raiseToHard()          // at start: 1024 → the hard limit
/// let cap = FileDescriptorLimit.defaultMaxConnections()  // the limit less a reserve for files
/// ```
public enum FileDescriptorLimit {
    /// The soft limit now.
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(clamping: min(limit.rlim_cur, rlim_t(Int32.max)))
    }

    /// Raises the soft limit to the hard one (capped at 1,048,576); returns the soft limit after.
    @discardableResult
    public static func raiseToHard() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return current }
        let target = min(limit.rlim_max, 1 << 20)
        if limit.rlim_cur < target {
            limit.rlim_cur = target
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return current
    }

    /// Connections served at once by default: the soft limit less a reserve for the store, indexes,
    /// models, jobs and the connections being refused (a quarter of the limit, at most 256).
    public static func defaultMaxConnections(limit: Int = current) -> Int {
        max(16, limit - min(256, limit / 4))
    }
}
