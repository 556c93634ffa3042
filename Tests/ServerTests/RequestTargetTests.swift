import Foundation
@testable import Server
import Testing

/// `RequestHead.splitTarget` works on bytes; Foundation's `removingPercentEncoding` over `String`
/// splits (what the server used before) is the reference: same path, same query items, for dot
/// segments, empty items, malformed escapes, escapes that decode to invalid UTF-8, and non-ASCII.
@Suite struct RequestTargetTests {
    /// The reference: the string-based split with Foundation's percent decoding.
    static func reference(_ target: String) -> (String, [(String, String)]) {
        let comps = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = comps.first.map(String.init) ?? "/"
        var segments = [Substring]()
        let pieces = rawPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (n, s) in pieces.enumerated() {
            if s == "." { if n == pieces.count - 1 { segments.append("") }; continue }
            if s == ".." { _ = segments.popLast(); if n == pieces.count - 1 { segments.append("") }; continue }
            segments.append(s)
        }
        let joined = "/" + segments.joined(separator: "/")
        let path = joined.removingPercentEncoding ?? joined
        guard comps.count > 1, !comps[1].isEmpty else { return (path, []) }
        let query = comps[1].split(separator: "&").map { item -> (String, String) in
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(kv[0]).removingPercentEncoding ?? String(kv[0])
            let value = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
            return (name, value)
        }
        return (path, query)
    }

    static let targets = [
        "/", "/healthz", "/v1/spaces/a.b/vectors", "/a/./b/../c", "/a/..", "/a/.", "/a/b/", "//x", "/..", "/%7Euser/%2e%2E",
        "/x?", "/x?&", "/x?&&a", "/x?a=b=c", "/x?=v", "/x?k=", "/x?ids=1,2,3&format=npz", "/x?ids=1%2C2%2c3",
        "/x?q=%E2%82%AC", "/x?q=%e2%82%ac&r=%41", "/x?q=%C3", "/x?q=%zz&r=1", "/x?q=%4", "/x?q=50%", "/x?q=%%41",
        "/caf%C3%A9?na%C3%AFve=%C3%A9t%C3%A9", "/é/ü?ß=ø", "/x?a+b=c+d", "/x?a=%00b", "/p%2Fq?x=%3F%26%3D",
    ]

    @Test func matchesFoundationsPercentDecoding() {
        for t in Self.targets {
            let (path, query) = RequestHead.splitTarget(Array(t.utf8)[...])
            let (refPath, refQuery) = Self.reference(t)
            #expect(path == refPath, "\(t)")
            #expect(query.map(\.name) == refQuery.map(\.0) && query.map(\.value) == refQuery.map(\.1), "\(t)")
        }
    }

    /// Random targets over an alphabet heavy in the characters that matter, against the reference.
    @Test func randomTargetsMatchTheReference() {
        let alphabet = Array("/.?&=%2EeFfCc3A0zé ab".map(String.init))
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        for _ in 0..<2_000 {
            let t = "/" + (0..<(next() % 24)).map { _ in alphabet[next() % alphabet.count] }.joined()
            let (path, query) = RequestHead.splitTarget(Array(t.utf8)[...])
            let (refPath, refQuery) = Self.reference(t)
            #expect(path == refPath, "\(t)")
            #expect(query.map(\.name) == refQuery.map(\.0) && query.map(\.value) == refQuery.map(\.1), "\(t)")
        }
    }
}
