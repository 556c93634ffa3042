import Foundation

/// Rank metrics recomputed in Double with plain loops (no sgemm, no production helpers): rows are
/// centred on `mean` and L2-normalised, a query's rank is 1 + the rows outside its true duplicate
/// group scoring strictly above the group's best. Ties are detected from these reference scores:
/// a candidate within `tie` of the group's best could land on either side in Float arithmetic, so
/// each metric comes as the range [worst, best] over those candidates; with no near-ties both ends
/// are equal and the check is exact.
public struct NaiveMetrics {
    public var rank1: ClosedRange<Double>
    public var rank10: ClosedRange<Double>
    public var mrr: ClosedRange<Double>
    public var count: Int
    public var nearTies: Int

    public func contains(rank1 r1: Double, rank10 r10: Double, mrr m: Double, count c: Int) -> Bool {
        c == count && rank1.contains(r1) && rank10.contains(r10)
            && m >= mrr.lowerBound - 1e-12 && m <= mrr.upperBound + 1e-12
    }
}

public func naiveCentredUnitRows(_ x: [Float], dim: Int, meanOver rows: [Int]) -> [[Double]] {
    var mean = [Double](repeating: 0, count: dim)
    for r in rows { for k in 0..<dim { mean[k] += Double(x[r * dim + k]) } }
    for k in 0..<dim { mean[k] /= Double(rows.count) }
    return (0..<(x.count / dim)).map { i in
        let v = (0..<dim).map { Double(x[i * dim + $0]) - mean[$0] }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }
}

public func naiveRankMetrics(queries: [[Double]], truth: [Int], database: [[Double]], groups: [Int], tie: Double = 1e-5) -> NaiveMetrics {
    var strict = [Int](), loose = [Int](), nearTies = 0
    for (q, t) in zip(queries, truth) {
        let scores = database.map { row in zip(q, row).reduce(0) { $0 + $1.0 * $1.1 } }
        let best = scores.indices.filter { groups[$0] == groups[t] }.map { scores[$0] }.max()!
        let outside = scores.indices.filter { groups[$0] != groups[t] }
        let above = outside.filter { scores[$0] > best + tie }.count
        let close = outside.filter { abs(scores[$0] - best) <= tie }.count
        if close > 0 { nearTies += 1 }
        strict.append(above + 1)
        loose.append(above + close + 1)
    }
    let n = Double(truth.count)
    func frac(_ r: [Int], _ k: Int) -> Double { Double(r.filter { $0 <= k }.count) / n }
    func mrr(_ r: [Int]) -> Double { r.reduce(0) { $0 + 1 / Double($1) } / n }
    return NaiveMetrics(rank1: frac(loose, 1)...frac(strict, 1), rank10: frac(loose, 10)...frac(strict, 10),
                        mrr: mrr(loose)...mrr(strict), count: truth.count, nearTies: nearTies)
}
