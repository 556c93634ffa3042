import Core
import Foundation
import Testing
import TestSupport
@testable import Server

/// Uploads that used to crash the whole process with a Swift overflow trap (issue 12, item 1), sent
/// over real HTTP: each is now a documented 4xx, the server keeps serving and the store is unchanged.
/// The bodies are the committed regression seeds (scripts/fuzz/make_seeds.py).
@Suite struct CrashingUploadTests {
    static let core = PackagePaths.root.appendingPathComponent("Tests/CoreTests/Fixtures/fuzz")
    static let bodies = PackagePaths.root.appendingPathComponent("Tests/ServerTests/Fixtures/fuzz/vectorbody")

    @Test(arguments: Backend.all) func crashersAreA4xxAndTheServerKeepsServing(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let ids = (try await s.call("POST", "/v1/functions", json: sampleFunctions).json?["ids"]?.arrayValue ?? []).compactMap { $0.intValue }
        try #require(ids.count == 3)
        _ = try await s.call("POST", "/v1/spaces", json: ["name": "sp", "kind": "body_mean", "dim": 3])
        _ = try await s.call("POST", "/v1/spaces", json: ["name": "tok", "kind": "sig_tokens", "dim": 3])
        _ = try await s.call("PUT", "/v1/spaces/sp/vectors", json: ["ids": [.number(Double(ids[0]))], "vectors": [[1, 2, 3]]])
        let snapshot = try await s.storeCounts()

        struct Case { var method: String; var path: String; var file: URL; var type: String; var status: Int; var code: String }
        let npy = ["crash_shape_overflow_2p62x2.npy", "crash_bytes_overflow_2p61_f4.npy"].map { Self.core.appendingPathComponent("npy/\($0)") }
        let npz = ["crash_zip64_size_2p64m16.npz", "crash_zip64_offset_2p63m1.npz", "crash_zip64_entries_2p64m1.npz",
                   "crash_zip64_cd_offset_2p63m1.npz", "overlap_40_refs.npz", "duplicate_names.npz"]
            .map { Self.core.appendingPathComponent("npz/\($0)") }
        var cases = [Case]()
        for f in npy {
            cases.append(Case(method: "PUT", path: "/v1/spaces/sp/vectors?ids=\(ids[1])", file: f, type: "application/x-npy", status: 400, code: "bad_npy"))
            cases.append(Case(method: "POST", path: "/v1/spaces/sp/search", file: f, type: "application/x-npy", status: 400, code: "bad_npy"))
        }
        for f in npz {
            cases.append(Case(method: "PUT", path: "/v1/spaces/sp/vectors", file: f, type: "application/x-npz", status: 400, code: "bad_npz"))
        }
        for name in ["crash_rows_sum_overflow.npz", "rows_negative.npz"] {
            cases.append(Case(method: "PUT", path: "/v1/spaces/tok/vectors", file: Self.bodies.appendingPathComponent(name),
                              type: "application/x-npz", status: 422, code: "wrong_dimension"))
        }
        for c in cases {
            let r = try await s.call(c.method, c.path, body: try Data(contentsOf: c.file), contentType: c.type)
            let what = "\(c.method) \(c.path) \(c.file.lastPathComponent): \(String(decoding: r.body, as: UTF8.self))"
            #expect(r.status == c.status, "\(what)")
            #expect(r.errorCode == c.code, "\(what)")
        }
        #expect(try await s.call("GET", "/healthz").status == 200)
        #expect(try await s.storeCounts() == snapshot)
    }

    /// The memory amplification of the issue: one 8 MiB member listed 40 times is refused before
    /// any member is decoded (it used to decode 40 copies: 383 MiB RSS).
    @Test(arguments: Backend.all) func oneMemberListedManyTimesIsRefused(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        _ = try await s.call("POST", "/v1/spaces", json: ["name": "wide", "kind": "custom", "dim": 1024])
        let rows = 2048  // 2048 × 1024 × 4 bytes = 8 MiB
        let vectors = NPYArray(floats: [Float](repeating: 0.5, count: rows * 1024), shape: [rows, 1024]).encoded()
        let ids = NPYArray(int64s: (1...Int64(rows)).map { $0 }).encoded()
        let archive = Self.relist(ids: ids, member: "vectors.npy", payload: vectors, times: 40)
        let r = try await s.call("PUT", "/v1/spaces/wide/vectors", body: archive, contentType: "application/x-npz")
        #expect(r.status == 400 && r.errorCode == "bad_npz", "\(String(decoding: r.body, as: UTF8.self))")
        #expect(r.json?["error"]?["message"]?.stringValue?.contains("overlap") == true)
    }

    /// A ZIP whose central directory lists one stored `payload` `times` times (as `copyN.npy`) besides `ids`.
    static func relist(ids: Data, member: String, payload: Data, times: Int) -> Data {
        var out = Data(), central = Data()
        func local(_ name: String, _ body: Data) -> UInt32 {
            let offset = UInt32(out.count), n = Array(name.utf8)
            out.appendLE(UInt32(0x04034b50)); out.appendLE(UInt16(20)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
            out.appendLE(UInt16(0)); out.appendLE(UInt16(0x21)); out.appendLE(CRC32.checksum(body))
            out.appendLE(UInt32(body.count)); out.appendLE(UInt32(body.count)); out.appendLE(UInt16(n.count)); out.appendLE(UInt16(0))
            out.append(contentsOf: n); out.append(body)
            return offset
        }
        func entry(_ name: String, _ body: Data, at offset: UInt32) {
            let n = Array(name.utf8)
            central.appendLE(UInt32(0x02014b50)); central.appendLE(UInt16(20)); central.appendLE(UInt16(20))
            for _ in 0..<3 { central.appendLE(UInt16(0)) }
            central.appendLE(UInt16(0x21)); central.appendLE(CRC32.checksum(body))
            central.appendLE(UInt32(body.count)); central.appendLE(UInt32(body.count)); central.appendLE(UInt16(n.count))
            for _ in 0..<4 { central.appendLE(UInt16(0)) }
            central.appendLE(UInt32(0)); central.appendLE(offset); central.append(contentsOf: n)
        }
        entry("ids.npy", ids, at: local("ids.npy", ids))
        let at = local(member, payload)
        entry(member, payload, at: at)
        for i in 0..<times { entry("copy\(i).npy", payload, at: at) }
        let cdOffset = UInt32(out.count), count = UInt16(times + 2)
        out.append(central)
        out.appendLE(UInt32(0x06054b50)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
        out.appendLE(count); out.appendLE(count); out.appendLE(UInt32(central.count)); out.appendLE(cdOffset); out.appendLE(UInt16(0))
        return out
    }
}

private extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
