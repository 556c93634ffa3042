import Foundation

/// SHA-256 (FIPS 180-4) in plain Swift, for content and body hashes (Foundation on Linux has none).
///
/// ```swift
/// SHA256.hex("abc") // "ba7816bf…f20015ad"
/// ```
public enum SHA256 {
    static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// SHA-256 (FIPS 180-4) as lowercase hex.
    public static func hex(_ data: [UInt8]) -> String {
        var s = Stream()
        data.withUnsafeBytes { s.update($0) }
        return s.finish()
    }

    /// SHA-256 of a file, read in 1 MiB pieces (memory stays flat for any size).
    ///
    /// ```swift
    /// try SHA256.hex(fileAt: URL(fileURLWithPath: "model.gguf"))   // as `sha256sum model.gguf` prints it
    /// ```
    public static func hex(fileAt url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var s = Stream()
        while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty {
            piece.withUnsafeBytes { s.update($0) }
        }
        return s.finish()
    }

    /// An incremental SHA-256: `update` with any number of byte runs, then `finish`.
    public struct Stream {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var pending: [UInt8] = []
        var length: UInt64 = 0

        public init() {}

        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            length &+= UInt64(bytes.count)
            var rest = UnsafeRawBufferPointer(rebasing: bytes[...])
            if !pending.isEmpty {
                let take = min(64 - pending.count, rest.count)
                pending += rest.prefix(take)
                rest = UnsafeRawBufferPointer(rebasing: rest[take...])
                guard pending.count == 64 else { return }
                pending.withUnsafeBytes { SHA256.compress(&h, $0) }
                pending.removeAll(keepingCapacity: true)
            }
            let whole = rest.count / 64 * 64
            if whole > 0 { SHA256.compress(&h, UnsafeRawBufferPointer(rebasing: rest[..<whole])) }
            pending += rest[whole...]
        }

        /// The digest as lowercase hex (pads a copy: the stream itself is left as it was).
        public func finish() -> String {
            var h = self.h
            var tail = pending
            tail.append(0x80)
            while tail.count % 64 != 56 { tail.append(0) }
            let bitLen = length &* 8
            for s in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bitLen >> UInt64(s))) }
            tail.withUnsafeBytes { SHA256.compress(&h, $0) }
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            var out = [UInt8](repeating: 0, count: 64)
            for (i, v) in h.enumerated() {
                for j in 0..<8 { out[i * 8 + j] = digits[Int((v >> UInt32(28 - 4 * j)) & 15)] }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Runs the compression function over whole 64-byte blocks.
    static func compress(_ h: inout [UInt32], _ m: UnsafeRawBufferPointer) {
        @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            k.withUnsafeBufferPointer { kk in
                for chunk in stride(from: 0, to: m.count - 63, by: 64) {
                    for j in 0..<16 {
                        let b = chunk + 4 * j
                        w[j] = UInt32(m[b]) << 24 | UInt32(m[b + 1]) << 16 | UInt32(m[b + 2]) << 8 | UInt32(m[b + 3])
                    }
                    for j in 16..<64 {
                        let s0 = rotr(w[j - 15], 7) ^ rotr(w[j - 15], 18) ^ (w[j - 15] >> 3)
                        let s1 = rotr(w[j - 2], 17) ^ rotr(w[j - 2], 19) ^ (w[j - 2] >> 10)
                        w[j] = w[j - 16] &+ s0 &+ w[j - 7] &+ s1
                    }
                    var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
                    for j in 0..<64 {
                        let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                        let ch = (e & f) ^ (~e & g)
                        let t1 = hh &+ s1 &+ ch &+ kk[j] &+ w[j]
                        let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                        let maj = (a & b) ^ (a & c) ^ (b & c)
                        hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ s0 &+ maj
                    }
                    h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
                }
            }
        }
    }

    /// Hex digest of any bytes.
    public static func hex<D: DataProtocol>(_ data: D) -> String { hex([UInt8](data)) }

    /// Hex digest of a string's UTF-8 bytes.
    public static func hex(_ string: String) -> String { hex(Array(string.utf8)) }
}
