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

    /// Descriptors open in this process now (`/proc/self/fd`; nil where it cannot be read).
    public static func openNow() -> Int? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        return max(0, names.count - 1)  // less the one reading the directory
    }

    /// Accepted sockets the server may hold at once (served and being refused): the limit less
    /// what is open already (`inUse`) and a headroom for the files the store, indexes and jobs
    /// open later. Past it `accept` waits and new clients stay in the listen backlog. The process
    /// must never reach the limit: libdispatch's worker monitor takes a failed `open` of
    /// `/proc/<tid>/stat` for a worker that exited and kills the process (SIGILL).
    ///
    ///     FileDescriptorLimit.socketBudget(limit: 256, inUse: 20)   // 204
    public static func socketBudget(limit: Int = current, inUse: Int = openNow() ?? 64) -> Int {
        max(8, limit - inUse - min(128, max(32, limit / 8)))
    }
}
