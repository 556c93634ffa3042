import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The server directories `ingest` may read: `serve --ingest-root DIR` (repeatable; `worker` too).
/// A path is accepted when, after resolving every symbolic link, it is a root or lies inside one; a
/// link inside a root that points out of it is refused. With no root, no server path is ingested
/// (`swejepa ingest PATH --server URL` extracts on the client and uploads instead).
///
/// Refusals never say whether a path outside the roots exists, and never echo server paths.
///
/// ```swift
/// let roots = try IngestRoots(["/srv/corpora"])
/// let dir = try roots.resolve("/srv/corpora/requests")   // the real path, or a 403 `ingest_path_forbidden`
/// ```
public struct IngestRoots: Sendable, Equatable {
    /// Real paths of the roots (symbolic links resolved), without a trailing slash.
    public let paths: [String]

    /// No root: every server path is refused.
    public static let none = IngestRoots(resolved: [])

    private init(resolved: [String]) { paths = resolved }

    /// Resolves each directory (it must exist); throws a message naming the bad one (start-up only).
    public init(_ directories: [String]) throws {
        var out = [String]()
        for d in directories {
            guard let real = Self.realPath(d), Self.isDirectory(real) else {
                throw APIError.badRequest("--ingest-root \(d) is not a directory", code: "invalid_ingest_root")
            }
            if !out.contains(real) { out.append(real) }
        }
        paths = out
    }

    public var isEmpty: Bool { paths.isEmpty }

    /// The real path of `path` when it is a directory inside a root; a 403 `ingest_path_forbidden`
    /// (outside every root, or no root configured) or a 400 `invalid_path` (inside a root but not a
    /// directory) otherwise.
    public func resolve(_ path: String) throws -> URL {
        guard !paths.isEmpty else {
            throw APIError(status: 403, code: "ingest_path_forbidden", message:
                "this server ingests no server paths (it was started without --ingest-root); "
                + "`swejepa ingest PATH --server URL` extracts on the client and uploads the functions instead")
        }
        let forbidden = APIError(status: 403, code: "ingest_path_forbidden", message: "path is not under an ingest root of this server")
        guard path.hasPrefix("/") else { throw forbidden }
        let lexical = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let real = Self.realPath(path) else {
            // Missing: say so only when the path (as written) is inside a root.
            guard inside(lexical) else { throw forbidden }
            throw APIError.badRequest("path is not a directory under the ingest root", code: "invalid_path")
        }
        guard inside(real) else { throw forbidden }
        guard Self.isDirectory(real) else { throw APIError.badRequest("path is not a directory under the ingest root", code: "invalid_path") }
        return URL(fileURLWithPath: real, isDirectory: true)
    }

    private func inside(_ path: String) -> Bool {
        paths.contains { root in path == root || path.hasPrefix(root == "/" ? "/" : root + "/") }
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
