import Core

/// The calibration queries a rebuild keeps out of the new index until its recall is measured: the
/// `size` rows whose seeded hash of the id is smallest (a bottom-k sketch over the stream, so the
/// set is a uniform sample that depends only on the ids and the seed, not on batch order).
///
/// Stored vectors used as queries on an index that already holds them flatter HNSW: the search
/// reaches the query's own node, whose links are its neighbours (HNSW8 on clustered data: 0.90
/// in-sample at ef_search 64, 0.85 on held-out queries). Queries the graph has never seen measure
/// what a real query gets.
///
///     var held = HeldOutSample(size: 500, dim: 384, seed: 19)
///     for batch in batches { let now = held.offer(batch); try index.add(ids: now.ids, vectors: now.values) }
///     // measure with held.ids / held.values as queries, then add them too
struct HeldOutSample {
    let size: Int
    let dim: Int
    let seed: UInt64
    /// Kept rows in increasing hash order.
    private(set) var hashes: [UInt64] = []
    private(set) var ids: [Int64] = []
    private var rows: [[Float]] = []

    init(size: Int, dim: Int, seed: UInt64) {
        self.size = max(0, size)
        self.dim = dim
        self.seed = seed
    }

    /// The seeded hash that orders rows (one SplitMix64 step from the id mixed with the seed).
    static func hash(_ id: Int64, seed: UInt64) -> UInt64 {
        var g = SplitMix64(seed: UInt64(bitPattern: id) ^ (seed &* 0x9E37_79B9_7F4A_7C15))
        return g.next()
    }

    /// Takes the rows of `batch` that belong to the sample so far and returns the rest, plus any
    /// row the batch pushed out of the sample: what to add to the index now.
    mutating func offer(_ batch: VectorBatch) -> VectorBatch {
        guard size > 0 else { return batch }
        var outIDs: [Int64] = [], out: [Float] = []
        outIDs.reserveCapacity(batch.ids.count)
        out.reserveCapacity(batch.values.count)
        for (r, id) in batch.ids.enumerated() {
            let row = batch.values[(r * dim)..<((r + 1) * dim)]
            let h = Self.hash(id, seed: seed)
            if hashes.count == size, h >= hashes[size - 1] {
                outIDs.append(id); out += row
                continue
            }
            var lo = 0, hi = hashes.count
            while lo < hi { let mid = (lo + hi) / 2; if hashes[mid] < h { lo = mid + 1 } else { hi = mid } }
            hashes.insert(h, at: lo); ids.insert(id, at: lo); rows.insert(Array(row), at: lo)
            if hashes.count > size {
                outIDs.append(ids.removeLast()); out += rows.removeLast()
                hashes.removeLast()
            }
        }
        return VectorBatch(ids: outIDs, values: out)
    }

    /// The held rows (row-major, in the order of `ids`).
    var values: [Float] { rows.flatMap { $0 } }

    var isEmpty: Bool { ids.isEmpty }
}
