import ArgumentParser
import Foundation

/// Where a bearer token comes from, for `serve` and for every `--server` command: `--token-file
/// PATH` (preferred: the file's first line, trimmed; mode 0600 or 0400, else refused), the `SWEJEPA_TOKEN`
/// environment variable, or `--token T` (visible to every user in `ps`).
///
/// ```swift
/// let token = try TokenSource.resolve(flag: nil, file: "/run/secrets/swejepa")   // "s3cret"
/// ```
enum TokenSource {
    static let environmentKey = "SWEJEPA_TOKEN"

    /// The token given, or nil when none is: at most one of `flag` and `file`; the environment
    /// variable when neither is given (an empty one counts as none).
    static func resolve(flag: String?, file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if flag != nil && file != nil { throw ValidationError("give --token or --token-file, not both") }
        if let file { return try read(file) }
        if let flag {
            guard !flag.isEmpty else { throw ValidationError("--token must not be empty") }
            return flag
        }
        if let env = environment[environmentKey]?.trimmingCharacters(in: .whitespacesAndNewlines), !env.isEmpty { return env }
        return nil
    }

    /// The first line of the file, trimmed. Refused when its group or other users may read or write
    /// it (any of the mode bits 077, as ssh does for private keys): a token readable by a group is a
    /// token every member of that group holds (and groups such as `users` are wide); a server that
    /// should share one with another account can get it from SWEJEPA_TOKEN instead.
    static func read(_ path: String) throws -> String {
        if let attrs = try? FileManager.default.attributesOfItem(atPath: path),
           let mode = (attrs[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw ValidationError(String(format: "the token file %@ is open to other users (mode %03o); run chmod 600 on it (0600 or 0400 are accepted)", path, mode))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read the token file \(path)")
        }
        guard data.count <= 4096 else { throw ValidationError("the token file \(path) is larger than 4 KiB; it should hold one line") }
        let text = String(decoding: data, as: UTF8.self)
        let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty else { throw ValidationError("the token file \(path) is empty") }
        return token
    }
}
