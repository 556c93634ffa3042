/// Hashes that identify a function's content and its duplicate group, computed on UTF-8 bytes.
///
/// The duplicate-group key is the SHA-256 of the body after: CRLF/CR → LF, leading tabs expanded to the
/// next multiple of 8 columns, trailing spaces/tabs removed, blank lines dropped, the common indentation
/// removed (dedent), and runs of spaces/tabs inside a line collapsed to one space. Two functions whose
/// bodies differ only in indentation level or spacing share a group.
///
/// ```swift
/// FunctionHash.body("    return x\n") == FunctionHash.body("  return  x") // true
/// ```
public enum FunctionHash {
    /// SHA-256 (hex) of signature + NUL + body.
    public static func content(signature: String, body: String) -> String {
        var s = signature, b = body
        return s.withUTF8 { sp in b.withUTF8 { bp in content(signature: sp, body: bp) } }
    }

    /// SHA-256 (hex) of the normalised body: the duplicate-group key.
    public static func body(_ body: String) -> String {
        var b = body
        return b.withUTF8 { self.body($0) }
    }

    /// The normalised body as text.
    public static func normalizedBody(_ body: String) -> String {
        var b = body
        return String(decoding: b.withUTF8 { normalizedBody($0) }, as: UTF8.self)
    }

    /// `content(signature:body:)` on UTF-8 bytes.
    public static func content(signature: UnsafeBufferPointer<UInt8>, body: UnsafeBufferPointer<UInt8>) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(signature.count + body.count + 1)
        bytes.append(contentsOf: signature)
        bytes.append(0)
        bytes.append(contentsOf: body)
        return SHA256.hex(bytes)
    }

    /// `body(_:)` on UTF-8 bytes.
    public static func body(_ body: UnsafeBufferPointer<UInt8>) -> String { SHA256.hex(normalizedBody(body)) }

    /// Core.FunctionHash.normalizedBody on bytes: CRLF/CR → LF; per line, leading spaces/tabs measured
    /// with tabs to the next multiple of 8, trailing spaces/tabs removed, empty lines dropped; the smallest
    /// indentation is removed from all lines (re-emitted as spaces); runs of spaces/tabs inside a line
    /// become one space; every line ends with "\n".
    public static func normalizedBody(_ b: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var lines: [(indent: Int, start: Int, end: Int)] = []
        let n = b.count
        var s = 0
        var minIndent = Int.max
        func addLine(_ a: Int, _ e: Int) {
            var col = 0, k = a
            while k < e, b[k] == 32 || b[k] == 9 {
                col = b[k] == 9 ? (col / 8 + 1) * 8 : col + 1
                k += 1
            }
            var t = e
            while t > k, b[t - 1] == 32 || b[t - 1] == 9 { t -= 1 }
            if t > k {
                lines.append((col, k, t))
                minIndent = min(minIndent, col)
            }
        }
        var k = 0
        while k < n {
            let c = b[k]
            if c == 10 || c == 13 {
                addLine(s, k)
                if c == 13 && k + 1 < n && b[k + 1] == 10 { k += 1 }
                s = k + 1
            }
            k += 1
        }
        addLine(s, n)
        var out: [UInt8] = []
        out.reserveCapacity(n)
        for line in lines {
            for _ in 0..<(line.indent - minIndent) { out.append(32) }
            var lastSpace = false
            for j in line.start..<line.end {
                let c = b[j]
                let space = c == 32 || c == 9
                if space { if !lastSpace { out.append(32) } } else { out.append(c) }
                lastSpace = space
            }
            out.append(10)
        }
        return out
    }
}
