import ArgumentParser
import Foundation

/// Where a bearer token comes from, for `serve` and for every `--server` command: `--token-file
/// PATH` (preferred: the file's first line, trimmed; keep it mode 0600), the `SWEJEPA_TOKEN`
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

    /// The first line of the file, trimmed; a warning when others may read it.
    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read the token file \(path)")
        }
        guard data.count <= 4096 else { throw ValidationError("the token file \(path) is larger than 4 KiB; it should hold one line") }
        let text = String(decoding: data, as: UTF8.self)
        let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty else { throw ValidationError("the token file \(path) is empty") }
        if let attrs = try? FileManager.default.attributesOfItem(atPath: path),
           let mode = (attrs[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            Console.error(String(format: "warning: the token file %@ is readable by other users (mode %o); chmod 600 it", path, mode))
        }
        return token
    }
}
