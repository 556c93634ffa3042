/// What a space's vectors are: the domain words of the seed.
///
/// `sig_tokens` spaces hold a token matrix per function; the others one vector per function.
public enum SpaceKind: String, Sendable, Codable, CaseIterable {
    case sigTokens = "sig_tokens"
    case sigMean = "sig_mean"
    case bodyMean = "body_mean"
    case bodyOnlyMean = "body_only_mean"
    case student = "student"
    case custom = "custom"

    /// True for kinds that store a variable-length token matrix (T × dim) per function.
    public var isTokens: Bool { rawValue.hasSuffix("_tokens") }
}

/// Storage type of a space's vectors.
public enum VectorDType: String, Sendable, Codable, CaseIterable {
    case float32, float16
    public var size: Int { self == .float32 ? 4 : 2 }
}

/// Similarity used by a space's index.
public enum Metric: String, Sendable, Codable, CaseIterable {
    case cosine, ip, l2
}

/// The canonical space name for a teacher model, layer and kind: `all-MiniLM-L6-v2.L3.body_mean`.
public func spaceName(model: String, layer: Int, kind: SpaceKind) -> String {
    "\(model).L\(layer).\(kind.rawValue)"
}
