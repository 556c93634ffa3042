import Core
import FlyingFox
import Foundation

/// The request line and headers of one HTTP/1.x request, parsed in one linear pass over bytes the
/// connection already holds, within fixed limits.
///
/// ```swift
/// let head = try RequestHead.parse(Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
/// // head.method == "GET", head.path == "/healthz"
/// ```
struct RequestHead: Sendable {
    var method: String
    var version: String
    var path: String
    var query: [HTTPRequest.QueryItem]
    var headers: [HTTPHeader: String]

    /// Longest request line (414 past it) and header block (431 past it), in bytes. 64 KiB of request
    /// line holds a 10,000-id `?ids=` list (issue 14); the scan is linear, so the cap bounds memory, not time.
    static let maxRequestLine = 64 << 10
    static let maxHeaderBlock = 64 << 10

    /// Why a head is refused: each answers with its status and then the connection closes.
    struct Refusal: Error, Equatable {
        var status: Int
        var code: String
        var message: String
        static func badRequest(_ m: String) -> Refusal { Refusal(status: 400, code: "bad_request", message: m) }
        var apiError: APIError { APIError(status: status, code: code, message: message) }
    }

    static func uriTooLong() -> Refusal {
        Refusal(status: 414, code: "uri_too_long", message: "the request line is longer than \(maxRequestLine) bytes")
    }
    static func headersTooLarge() -> Refusal {
        Refusal(status: 431, code: "headers_too_large", message: "the request headers are larger than \(maxHeaderBlock) bytes")
    }

    /// Finds where a head ends as its bytes arrive, looking at each byte once; refuses (414/431) as
    /// soon as the bytes seen can no longer make a head within the limits.
    struct Scanner {
        /// Positions relative to the head's first byte.
        private var scanned = 0
        private var lineStart = 0
        private var sawRequestLine = false

        /// The length of the head (through its blank line) once `bytes[start...]` holds all of it.
        mutating func end(in bytes: [UInt8], from start: Int) throws(Refusal) -> Int? {
            var i = start + scanned
            while i < bytes.count {
                if bytes[i] == 0x0A {
                    let length = i - start - lineStart
                    let blank = length == 0 || (length == 1 && bytes[i - 1] == 0x0D)
                    if blank && sawRequestLine { scanned = i + 1 - start; return scanned }
                    if !blank { sawRequestLine = true }
                    lineStart = i + 1 - start
                }
                i += 1
                let seen = i - start
                if !sawRequestLine && seen > maxRequestLine + 2 { throw uriTooLong() }
                if seen > maxRequestLine + 2 + maxHeaderBlock { throw headersTooLarge() }
            }
            scanned = i - start
            return nil
        }
    }

    /// Parses a complete head (as delimited by `end(in:from:scanned:)`).
    static func parse(_ head: ArraySlice<UInt8>) throws(Refusal) -> RequestHead {
        var lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            line.last == 0x0D ? line.dropLast() : line
        }
        while let first = lines.first, first.isEmpty { lines.removeFirst() }  // blank lines before a request
        guard let requestLine = lines.first else { throw .badRequest("empty request") }
        if requestLine.count > maxRequestLine { throw uriTooLong() }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: true)
        guard parts.count == 3, let method = String(validating: parts[0], as: UTF8.self),
              let target = String(validating: parts[1], as: UTF8.self),
              let version = String(validating: parts[2], as: UTF8.self) else {
            throw .badRequest("malformed request line")
        }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { throw .badRequest("unsupported HTTP version '\(version.prefix(16))'") }
        guard !method.isEmpty, method.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .badRequest("malformed method") }
        guard target.first == "/" else { throw .badRequest("the request target must be an absolute path") }
        var headers = [HTTPHeader: String]()
        var total = 0
        for line in lines.dropFirst() where !line.isEmpty {
            total += line.count + 2
            if total > maxHeaderBlock { throw headersTooLarge() }
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex,
                  let name = String(validating: line[line.startIndex..<colon], as: UTF8.self),
                  !name.contains(where: { $0 == " " || $0 == "\t" }) else {
                throw .badRequest("malformed header line")
            }
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            headers[HTTPHeader(name)] = value
        }
        let (path, query) = splitTarget(parts[1])
        return RequestHead(method: method, version: version, path: path, query: query, headers: headers)
    }

    /// Path (percent-decoded, dot segments removed) and query items (percent-decoded), in linear time
    /// over the target's bytes (a 60 KB `?ids=` list took 6–15 ms through `String` splits and
    /// Foundation's `removingPercentEncoding`). A part whose escapes are malformed or decode to bytes
    /// that are not UTF-8 is kept as sent, as `removingPercentEncoding` returning nil left it before.
    ///
    /// ```swift
    /// let (path, query) = RequestHead.splitTarget(Array("/v1/a/../b?ids=1%2C2&k=".utf8)[...])
    /// // path == "/v1/b", query == [ids: "1,2", k: ""]
    /// ```
    static func splitTarget(_ target: ArraySlice<UInt8>) -> (String, [HTTPRequest.QueryItem]) {
        let question = target.firstIndex(of: 0x3F) ?? target.endIndex  // "?"
        var segments = [ArraySlice<UInt8>]()
        let pieces = target[..<question].split(separator: 0x2F, omittingEmptySubsequences: false).dropFirst()
        for (n, s) in pieces.enumerated() {
            let last = n == pieces.count - 1
            if s.count == 1 && s.first == 0x2E { if last { segments.append([]) }; continue }  // "."
            if s.count == 2 && s.first == 0x2E && s.last == 0x2E { _ = segments.popLast(); if last { segments.append([]) }; continue }  // ".."
            segments.append(s)
        }
        var joined: [UInt8] = [0x2F]
        for (i, s) in segments.enumerated() { if i > 0 { joined.append(0x2F) }; joined += s }
        let path = decoded(joined[...])
        guard question < target.endIndex else { return (path, []) }
        let query = target[(question + 1)...].split(separator: 0x26).map { item -> HTTPRequest.QueryItem in  // "&"
            guard let eq = item.firstIndex(of: 0x3D) else { return HTTPRequest.QueryItem(name: decoded(item), value: "") }  // "="
            return HTTPRequest.QueryItem(name: decoded(item[..<eq]), value: decoded(item[(eq + 1)...]))
        }
        return (path, query)
    }

    /// Percent-decoded text, or the bytes as they are when an escape is malformed or the result is not UTF-8.
    static func decoded(_ bytes: ArraySlice<UInt8>) -> String {
        percentDecoded(bytes) ?? String(decoding: bytes, as: UTF8.self)
    }

    /// `removingPercentEncoding` over bytes: nil for a `%` not followed by two hex digits or for a
    /// result that is not UTF-8.
    static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> String? {
        guard bytes.contains(0x25) else { return String(validating: bytes, as: UTF8.self) }
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: b - 0x30
            case 0x41...0x46: b - 0x41 + 10
            case 0x61...0x66: b - 0x61 + 10
            default: nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 0x25 {
                guard i + 2 < bytes.endIndex, let hi = hex(bytes[i + 1]), let lo = hex(bytes[i + 2]) else { return nil }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
