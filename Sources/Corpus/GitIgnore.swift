// .gitignore matching (gitignore(5)): comments, blank lines, trailing-space trimming, `\` escapes,
// `!` negation, directory-only patterns (trailing `/`), anchored patterns (a `/` at the start or in
// the middle), `*`, `?`, `[...]` classes, and `**` in leading (`**/x`), trailing (`x/**`) and middle
// (`a/**/b`) positions. Patterns of a `.gitignore` apply to paths below its directory; deeper files
// take precedence; within a file the last matching pattern wins.

/// One parsed pattern of a .gitignore file.
public struct GitIgnorePattern: Sendable, Equatable {
    public var glob: [UInt8]
    public var negated: Bool
    public var directoryOnly: Bool
    /// Anchored patterns match the path relative to the .gitignore's directory; others match any basename.
    public var anchored: Bool

    /// Parses one line; nil for blank lines and comments.
    public init?(line raw: Substring) {
        var s = Array(raw.utf8)
        if let last = s.last, last == 13 { s.removeLast() }
        // Trailing spaces are ignored unless escaped with a backslash.
        while let last = s.last, last == 32 {
            if s.count >= 2 && s[s.count - 2] == 92 { break }
            s.removeLast()
        }
        if s.isEmpty || s[0] == 35 { return nil }
        negated = false
        if s[0] == 33 { negated = true; s.removeFirst() }
        else if s.count >= 2 && s[0] == 92 && (s[1] == 33 || s[1] == 35) { s.removeFirst() }
        directoryOnly = false
        if s.last == 47 { directoryOnly = true; s.removeLast() }
        if s.isEmpty { return nil }
        anchored = s.dropLast().contains(47) || s.first == 47
        if s.first == 47 { s.removeFirst() }
        glob = s
    }

    /// Whether `path` (relative to the .gitignore's directory, '/'-separated) matches.
    public func matches(_ path: [UInt8], isDirectory: Bool) -> Bool {
        if directoryOnly && !isDirectory { return false }
        if anchored { return GitIgnorePattern.wildmatch(glob[...], path[...], pathname: true) }
        // Basename match.
        var b = path.count
        while b > 0 && path[b - 1] != 47 { b -= 1 }
        return GitIgnorePattern.wildmatch(glob[...], path[b...], pathname: true)
    }

    /// git's wildmatch with WM_PATHNAME: `*` and `?` do not match '/', `**` surrounded by slashes
    /// (or at the ends) matches any number of directories.
    static func wildmatch(_ p: ArraySlice<UInt8>, _ t: ArraySlice<UInt8>, pathname: Bool) -> Bool {
        var pi = p.startIndex, ti = t.startIndex
        while pi < p.endIndex {
            let c = p[pi]
            switch c {
            case 92: // backslash escape
                pi += 1
                guard pi < p.endIndex, ti < t.endIndex, t[ti] == p[pi] else { return false }
                pi += 1; ti += 1
            case 63: // ?
                guard ti < t.endIndex, t[ti] != 47 else { return false }
                pi += 1; ti += 1
            case 42: // * or **
                var q = pi
                while q < p.endIndex && p[q] == 42 { q += 1 }
                let stars = q - pi
                let atStart = pi == p.startIndex || p[pi - 1] == 47
                let atEnd = q == p.endIndex || p[q] == 47
                if stars >= 2 && atStart && atEnd {
                    // "**/" matches zero or more directories; trailing "/**" matches everything inside.
                    if q == p.endIndex { return true }
                    let rest = p[(q + 1)...]
                    var k = ti
                    while true {
                        if wildmatch(rest, t[k...], pathname: pathname) { return true }
                        // advance past the next '/'
                        while k < t.endIndex && t[k] != 47 { k += 1 }
                        if k >= t.endIndex { return false }
                        k += 1
                    }
                }
                let rest = p[q...]
                var k = ti
                while true {
                    if wildmatch(rest, t[k...], pathname: pathname) { return true }
                    if k >= t.endIndex || t[k] == 47 { return false }
                    k += 1
                }
            case 91: // [class]
                guard ti < t.endIndex, t[ti] != 47 else { return false }
                var q = pi + 1
                var negate = false
                if q < p.endIndex && (p[q] == 33 || p[q] == 94) { negate = true; q += 1 }
                var matched = false
                var first = true
                while q < p.endIndex && (p[q] != 93 || first) {
                    first = false
                    var lo = p[q]
                    if lo == 92 && q + 1 < p.endIndex { q += 1; lo = p[q] }
                    if q + 2 < p.endIndex && p[q + 1] == 45 && p[q + 2] != 93 {
                        let hi = p[q + 2]
                        if t[ti] >= lo && t[ti] <= hi { matched = true }
                        q += 3
                    } else {
                        if t[ti] == lo { matched = true }
                        q += 1
                    }
                }
                guard q < p.endIndex else { return false } // unterminated class: no match
                if matched == negate { return false }
                pi = q + 1; ti += 1
            default:
                guard ti < t.endIndex, t[ti] == c else { return false }
                pi += 1; ti += 1
            }
        }
        return ti == t.endIndex
    }
}

/// The patterns of one .gitignore file and the directory (relative to the root, "" for the root) it sits in.
public struct GitIgnoreFile: Sendable {
    public var directory: String
    public var patterns: [GitIgnorePattern]

    public init(directory: String, contents: String) {
        self.directory = directory
        patterns = contents.split(separator: "\n", omittingEmptySubsequences: false).compactMap(GitIgnorePattern.init(line:))
    }

    /// nil when no pattern matches, else whether the last matching pattern ignores (true) or re-includes (false).
    public func decision(relativePath: [UInt8], isDirectory: Bool) -> Bool? {
        for p in patterns.reversed() where p.matches(relativePath, isDirectory: isDirectory) {
            return !p.negated
        }
        return nil
    }
}

/// A stack of .gitignore files from the root down to the current directory.
///
///     var ig = GitIgnoreStack()
///     ig.push(GitIgnoreFile(directory: "", contents: "*.log\n!keep.log\nbuild/\n"))
///     ig.isIgnored("a/b.log", isDirectory: false) // true
///     ig.isIgnored("keep.log", isDirectory: false) // false
public struct GitIgnoreStack: Sendable {
    public var files: [GitIgnoreFile] = []
    public init() {}

    public mutating func push(_ f: GitIgnoreFile) { files.append(f) }
    public mutating func pop() { files.removeLast() }

    /// `path` is relative to the scan root, '/'-separated.
    public func isIgnored(_ path: String, isDirectory: Bool) -> Bool {
        for f in files.reversed() {
            let rel: Substring
            if f.directory.isEmpty { rel = Substring(path) } else {
                guard path.hasPrefix(f.directory + "/") else { continue }
                rel = path.dropFirst(f.directory.count + 1)
            }
            if let d = f.decision(relativePath: Array(rel.utf8), isDirectory: isDirectory) { return d }
        }
        return false
    }
}
