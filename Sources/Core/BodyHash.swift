/// Hashes that identify a function's content and its duplicate group.
///
/// The duplicate-group key is the SHA-256 of the body after: CRLF/CR → LF, tabs expanded to 8 columns,
/// trailing whitespace removed, blank lines dropped, the common indentation removed (dedent), and runs of
/// spaces inside a line collapsed to one. Two functions whose bodies differ only in indentation level or
/// spacing share a group.
///
/// ```swift
/// FunctionHash.body("    return x\n") == FunctionHash.body("  return  x") // true
/// ```
public enum FunctionHash {
    public static func content(signature: String, body: String) -> String {
        SHA256.hex(signature + "\u{0}" + body)
    }

    public static func body(_ body: String) -> String {
        SHA256.hex(normalizedBody(body))
    }

    public static func normalizedBody(_ body: String) -> String {
        let text = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var lines = [(indent: Int, text: Substring)]()
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var col = 0
            var idx = raw.startIndex
            while idx < raw.endIndex, raw[idx] == " " || raw[idx] == "\t" {
                col = raw[idx] == "\t" ? (col / 8 + 1) * 8 : col + 1
                idx = raw.index(after: idx)
            }
            var rest = raw[idx...]
            while let last = rest.last, last == " " || last == "\t" { rest = rest.dropLast() }
            if rest.isEmpty { continue }
            lines.append((col, rest))
        }
        let common = lines.map(\.indent).min() ?? 0
        var out = ""
        for (indent, content) in lines {
            out += String(repeating: " ", count: indent - common)
            var lastWasSpace = false
            for ch in content {
                let space = ch == " " || ch == "\t"
                if space { if !lastWasSpace { out.append(" ") } } else { out.append(ch) }
                lastWasSpace = space
            }
            out.append("\n")
        }
        return out
    }
}
