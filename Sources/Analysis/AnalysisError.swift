/// Errors thrown by the Analysis module; every bad input ends here instead of crashing.
///
/// ```swift
/// do { _ = try GroupKFold.split(groups: [1, 1, 2], folds: 3) }
/// catch let error as AnalysisError { print(error) }  // "3 folds need at least 3 groups, got 2"
/// ```
public enum AnalysisError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Buffer sizes do not agree with the stated shape.
    case shapeMismatch(String)
    /// An argument is out of its valid range.
    case invalidArgument(String)
    /// Fewer distinct groups (or samples) than folds.
    case tooFewGroups(groups: Int, folds: Int)
    /// A training fold holds a single class, so no classifier can be fitted.
    case singleClass(fold: Int, label: Int)
    /// An input holds NaN or infinity.
    case nonFinite(String)
    /// A vector of norm zero where a direction is needed (cosine, normalisation).
    case zeroVector(index: Int)
    /// LAPACK reported failure.
    case lapack(routine: String, info: Int32)

    public var description: String {
        switch self {
        case .shapeMismatch(let s): return "shape mismatch: \(s)"
        case .invalidArgument(let s): return "invalid argument: \(s)"
        case .tooFewGroups(let g, let f): return "\(f) folds need at least \(f) groups, got \(g)"
        case .singleClass(let fold, let label):
            return "training part of fold \(fold) holds only class \(label); cannot fit a classifier"
        case .nonFinite(let s): return "non-finite value in \(s)"
        case .zeroVector(let i): return "vector \(i) has norm zero"
        case .lapack(let r, let info): return "LAPACK \(r) failed with info=\(info)"
        }
    }
}

@inline(__always)
func checkShape(_ count: Int, _ rows: Int, _ cols: Int, _ name: String) throws {
    guard rows >= 0, cols >= 0, count == rows * cols else {
        throw AnalysisError.shapeMismatch("\(name) has \(count) values, expected \(rows)×\(cols)")
    }
}

@inline(__always)
func checkFinite<T: BinaryFloatingPoint>(_ values: [T], _ name: String) throws {
    for v in values where !v.isFinite { throw AnalysisError.nonFinite(name) }
}
