/// What a space's vectors are: the domain words of the seed.
///
/// `sig_tokens` and `body_tokens` spaces hold a token matrix per function; the others one vector
/// per function. `body_tokens` are the states whose mean is `body_mean` (same pass).
public enum SpaceKind: String, Sendable, Codable, CaseIterable {
    case sigTokens = "sig_tokens"
    case sigMean = "sig_mean"
    case bodyMean = "body_mean"
    case bodyTokens = "body_tokens"
    case bodyOnlyMean = "body_only_mean"
    case student = "student"
    case custom = "custom"

    /// True for kinds that store a variable-length token matrix (T × dim) per function.
    public var isTokens: Bool { rawValue.hasSuffix("_tokens") }

    /// The kinds a teacher model produces (the rest are written by training or by hand).
    ///
    ///     embedder.embed(functions: fs, layers: [3], kinds: Set(SpaceKind.teacherKinds))
    public static let teacherKinds: [SpaceKind] = [.sigTokens, .sigMean, .bodyMean, .bodyOnlyMean, .bodyTokens]

    /// The teacher kinds an embed job writes when none are named: all but `body_tokens` (a matrix
    /// of every body token per function, ~2 × dim bytes per token: written only when asked for).
    ///
    ///     SpaceKind.defaultEmbedKinds.contains(.bodyTokens)   // false
    public static let defaultEmbedKinds: [SpaceKind] = [.sigTokens, .sigMean, .bodyMean, .bodyOnlyMean]

    /// The storage type of a new space of this kind when none is named: float16 for `body_tokens`
    /// (large; teacher states lose nothing that matters at 3 significant digits), float32 otherwise.
    ///
    ///     SpaceKind.bodyTokens.defaultDType   // .float16
    public var defaultDType: VectorDType { self == .bodyTokens ? .float16 : .float32 }
}

/// Storage type of a space's vectors.
public enum VectorDType: String, Sendable, Codable, CaseIterable {
    case float32, float16
    public var size: Int { self == .float32 ? 4 : 2 }
}

/// How vectors are compared, with one spelling everywhere (API, store, index files): `cosine`
/// normalises stored and query vectors and ranks by inner product (scores in -1...1); `ip` ranks
/// by the raw dot product; `l2` by squared Euclidean distance (the score is that distance: lower
/// is closer).
///
///     let m = Metric(rawValue: "ip")   // .ip
///     m?.higherIsCloser                // true
public enum Metric: String, Sendable, Codable, CaseIterable {
    case cosine, ip, l2

    /// True when a larger score means closer (cosine, inner product).
    public var higherIsCloser: Bool { self != .l2 }
}

/// The canonical space name for a teacher model, layer and kind: `all-MiniLM-L6-v2.L3.body_mean`.
public func spaceName(model: String, layer: Int, kind: SpaceKind) -> String {
    "\(model).L\(layer).\(kind.rawValue)"
}
