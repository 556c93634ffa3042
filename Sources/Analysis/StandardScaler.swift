/// scikit-learn's `StandardScaler` fitted on an n×d Double matrix: column mean and population
/// standard deviation; near-constant columns (sklearn's `_is_constant_feature` test) get scale 1.
///
/// ```swift
/// let scaler = StandardScaler(fitting: xTrain, count: n, dims: d)
/// let z = scaler.transform(xTest, count: m)
/// ```
public struct StandardScaler: Sendable {
    public let mean: [Double]
    public let scale: [Double]

    public init(fitting x: [Double], count n: Int, dims d: Int) {
        let mean = columnMeans(x, n: n, d: d)
        var variance = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d { let c = x[i * d + j] - mean[j]; variance[j] += c * c }
        }
        let eps = Double.ulpOfOne, nn = Double(n)
        var scale = [Double](repeating: 1, count: d)
        for j in 0..<d {
            let v = n > 0 ? variance[j] / nn : 0
            let bound = nn * eps * v + (nn * mean[j] * eps) * (nn * mean[j] * eps)
            scale[j] = v <= bound ? 1 : v.squareRoot()
        }
        self.mean = mean
        self.scale = scale
    }

    /// (x − mean) / scale for an m×d matrix.
    public func transform(_ x: [Double], count m: Int) -> [Double] {
        let d = mean.count
        var out = x
        for i in 0..<m {
            for j in 0..<d { out[i * d + j] = (x[i * d + j] - mean[j]) / scale[j] }
        }
        return out
    }
}
