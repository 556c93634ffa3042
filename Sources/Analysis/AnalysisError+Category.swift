import Core

/// How analysis failures reach clients: inputs of the wrong shape or range are invalid input;
/// data that cannot be analysed as asked (too few groups, one class, NaNs, a zero vector) is
/// unprocessable; a LAPACK failure is ours.
///
/// ```swift
/// AnalysisError.tooFewGroups(groups: 2, folds: 3).code   // "too_few_groups"
/// ```
extension AnalysisError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .shapeMismatch, .invalidArgument: .invalidInput
        case .tooFewGroups, .singleClass, .nonFinite, .zeroVector: .unprocessable
        case .lapack: .internalFailure
        }
    }

    public var code: String {
        switch self {
        case .shapeMismatch: "wrong_dimension"
        case .invalidArgument: "invalid_parameter"
        case .tooFewGroups: "too_few_groups"
        case .singleClass: "single_class"
        case .nonFinite: "non_finite"
        case .zeroVector: "zero_vector"
        case .lapack: "internal"
        }
    }
}
