import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe file replacement, the one policy for every file the project writes whole: the bytes
/// go to a temporary file in the target's directory, which is fsync'd, renamed over the target and
/// then the directory is fsync'd. A reader sees the old file or the new one, never a mix; after a
/// crash the new file is either complete or absent. On failure the temporary file is removed and
/// the target is untouched. The directory must exist.
///
///     try AtomicFile.write(Data("{}".utf8), to: dir.appendingPathComponent("config.json"))
///     try AtomicFile.write(to: url, parts: [UnsafeRawBufferPointer(header), payload])
public enum AtomicFile {
    /// Why a write failed: the path involved and the system's reason.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "cannot write \(path): \(message)" }
    }

    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try data.withUnsafeBytes { try write(to: url, parts: [$0]) }
    }

    /// Writes the concatenation of `parts` to `url` atomically (no copy into one buffer).
    public static func write(to url: URL, parts: [UnsafeRawBufferPointer]) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(tmp.path) }
        var renamed = false
        defer { if !renamed { unlink(tmp.path) } }
        do {
            defer { close(fd) }
            for part in parts { try writeAll(fd, part, path: tmp.path) }
            guard fsync(fd) == 0 else { throw failure(tmp.path) }
        }
        guard rename(tmp.path, url.path) == 0 else { throw failure(url.path) }
        renamed = true
        let dfd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw failure(dir.path) }
        defer { close(dfd) }
        guard fsync(dfd) == 0 else { throw failure(dir.path) }
    }

    private static func failure(_ path: String) -> Failure {
        Failure(path: path, message: String(cString: strerror(errno)))
    }

    private static func writeAll(_ fd: Int32, _ data: UnsafeRawBufferPointer, path: String) throws {
        guard let base = data.baseAddress else { return }
        var done = 0
        while done < data.count {
            let n = systemWrite(fd, base + done, min(data.count - done, 1 << 26))
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(path)
            }
            done += n
        }
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif
