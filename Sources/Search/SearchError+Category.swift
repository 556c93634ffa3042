import Core

/// How search failures reach clients: what the caller sent wrong is a 4xx with a stable code;
/// a missing, corrupt or stale index file, I/O and memory are ours (500).
///
/// ```swift
/// SearchError.kOutOfRange(5000).code       // "invalid_k"
/// SearchError.kOutOfRange(5000).category   // .invalidInput
/// ```
extension SearchError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .unknownSpace: .notFound
        case .rebuildInProgress: .conflict
        case .kOutOfRange, .dimensionMismatch, .shapeMismatch, .nonFinite, .invalidParameter: .invalidInput
        case .invalidFactory, .faissRejected, .notEnoughTrainingVectors, .notTrained: .unprocessable
        case .missingIndexFile, .corruptIndexFile, .staleIndexFile, .io, .outOfMemory: .internalFailure
        }
    }

    public var code: String {
        switch self {
        case .unknownSpace: "unknown_space"
        case .rebuildInProgress: "rebuild_in_progress"
        case .kOutOfRange: "invalid_k"
        case .dimensionMismatch, .shapeMismatch: "wrong_dimension"
        case .nonFinite: "non_finite"
        case .invalidParameter: "invalid_parameter"
        case .invalidFactory, .faissRejected, .notEnoughTrainingVectors, .notTrained: "invalid_index"
        case .missingIndexFile, .corruptIndexFile, .staleIndexFile, .io, .outOfMemory: "internal"
        }
    }
}
