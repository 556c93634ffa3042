import Foundation

/// Brute-force cosine top-k ids of `query` among `data` (rows aligned with `ids`), leaving out
/// `exclude`; computed independently of FAISS.
public func bruteForce(_ data: [[Float]], ids: [Int64], query: [Float], k: Int, exclude: Set<Int64> = []) -> [Int64] {
    func norm(_ v: [Float]) -> [Float] { let n = sqrt(v.reduce(0) { $0 + $1 * $1 }); return v.map { $0 / n } }
    let q = norm(query)
    let scored = zip(ids, data).filter { !exclude.contains($0.0) }.map { id, v in (id, zip(norm(v), q).reduce(0) { $0 + $1.0 * $1.1 }) }
    return scored.sorted { $0.1 > $1.1 }.prefix(k).map(\.0)
}
