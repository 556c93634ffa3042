import Tensor

// Small Double-precision helpers over flat row-major buffers (llm.c style).

/// Eigen-decomposition of a symmetric n×n matrix (row-major, overwritten by the eigenvectors
/// as columns when `vectors`), eigenvalues ascending. LAPACK `dsyevd`.
func symmetricEigen(_ a: inout [Double], n: Int, vectors: Bool) throws -> [Double] {
    var w = [Double](repeating: 0, count: n)
    let info = LAPACK.symmetricEigen(&a, eigenvalues: &w, n: n, vectors: vectors)
    guard info == 0 else { throw AnalysisError.lapack(routine: "dsyevd", info: info) }
    return w
}

/// Rows `rows` of an n×d matrix, as Double.
func gatherRows(_ x: [Double], d: Int, rows: [Int]) -> [Double] {
    var out = [Double](repeating: 0, count: rows.count * d)
    x.withUnsafeBufferPointer { px in
        out.withUnsafeMutableBufferPointer { po in
            for (r, i) in rows.enumerated() {
                let src = px.baseAddress! + i * d, dst = po.baseAddress! + r * d
                dst.update(from: src, count: d)
            }
        }
    }
    return out
}

/// Column means of an n×d matrix.
func columnMeans(_ x: [Double], n: Int, d: Int) -> [Double] {
    var mean = [Double](repeating: 0, count: d)
    guard n > 0 else { return mean }
    for i in 0..<n { for j in 0..<d { mean[j] += x[i * d + j] } }
    for j in 0..<d { mean[j] /= Double(n) }
    return mean
}

/// Population mean and standard deviation of a list (numpy's default `std`, ddof = 0).
func meanAndStd(_ v: [Double]) -> (mean: Double, std: Double) {
    guard !v.isEmpty else { return (.nan, .nan) }
    let mean = v.reduce(0, +) / Double(v.count)
    let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)
    return (mean, variance.squareRoot())
}
