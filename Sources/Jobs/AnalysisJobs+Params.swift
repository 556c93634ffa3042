import Analysis
import Core

// The analysis jobs' parameters: decoded once at submission (unknown keys refused: a typo would
// otherwise be silently ignored), checked by `validate()`, decoded again when a worker runs the job.

extension ProbeJob {
    /// `probe`'s parameters.
    ///
    /// ```swift
    /// let p = try ProbeJob.Params.decode(["space": "m.L3.body_mean", "targets": "loc,is_async"], job: "probe")
    /// p.targets?.map(\.name)   // ["loc", "is_async"]
    /// ```
    public struct Params: JobParams, Equatable {
        public var space: String
        /// Explicit targets (nil: every known count and category some function has).
        var targets: [TargetSpec]?
        public var folds = 5
        public var groupBy = Grouping.repo
        public var alphas = Probe.defaultAlphas
        public var c = 1.0
        public var seed: UInt64 = 0
        public var sample: Int?
        public var tokenizer: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case space, targets, folds, groupBy = "group_by", alphas, c, seed, sample, tokenizer
        }
        public static let knownKeys: Set<String>? = Set(CodingKeys.allCases.map(\.rawValue))

        public init(from decoder: any Decoder) throws {
            let k = try decoder.container(keyedBy: CodingKeys.self)
            space = try k.requiredString(.space)
            targets = try TargetSpec.decodeList(k, .targets)
            folds = try k.value(.folds, default: folds)
            groupBy = try k.choice(.groupBy, default: groupBy)
            alphas = try k.value(.alphas, default: alphas)
            c = try k.value(.c, default: c)
            seed = try k.value(.seed, default: seed)
            sample = try k.decodeIfPresent(Int.self, forKey: .sample)
            tokenizer = try k.nonEmptyString(.tokenizer)
        }

        public func validate() throws {
            try JobParamsCheck.spaceName("space", space)
            try checkMeanSpace(space, job: "probe")
            try JobParamsCheck.modelName("tokenizer", tokenizer)
            try JobParamsCheck.range("folds", folds, 2...20)
            guard (1...100).contains(alphas.count) else { throw JobParamsCheck.bad("'alphas' must be a list of 1 to 100 positive numbers") }
            for a in alphas { try JobParamsCheck.positive("alphas", a) }
            try JobParamsCheck.positive("c", c)
            try JobParamsCheck.range("seed", seed, JobParamsCheck.seedRange)
            try JobParamsCheck.range("sample", sample, 10...100_000_000)
        }
    }
}

extension LayerSweepJob {
    /// `layer_sweep`'s parameters.
    ///
    /// ```swift
    /// let p = try LayerSweepJob.Params.decode(["model": "m", "layers": [0, 3]], job: "layer_sweep")
    /// p.kinds   // [.bodyMean]
    /// ```
    public struct Params: JobParams, Equatable {
        public var model: String?
        public var layers = LayerSelection.all
        public var kinds: [SpaceKind] = [.bodyMean]
        public var sample = 2_000
        public var seed: UInt64 = 0
        public var folds = 5
        public var groupBy = Grouping.repo

        enum CodingKeys: String, CodingKey, CaseIterable {
            case model, layers, kinds, sample, seed, folds, groupBy = "group_by"
        }
        public static let knownKeys: Set<String>? = Set(CodingKeys.allCases.map(\.rawValue))

        public init(from decoder: any Decoder) throws {
            let k = try decoder.container(keyedBy: CodingKeys.self)
            model = try k.nonEmptyString(.model)
            layers = try k.value(.layers, default: layers)
            if let names = try k.decodeIfPresent([String].self, forKey: .kinds) {
                kinds = try SpaceKind.parse(names, among: SpaceKind.allCases.filter { !$0.isTokens }, key: .kinds, in: k)
            }
            sample = try k.value(.sample, default: sample)
            seed = try k.value(.seed, default: seed)
            folds = try k.value(.folds, default: folds)
            groupBy = try k.choice(.groupBy, default: groupBy)
        }

        public func validate() throws {
            try layers.validate(max: nil)
            try JobParamsCheck.range("sample", sample, 10...1_000_000)
            try JobParamsCheck.modelName("model", model)
            try JobParamsCheck.range("seed", seed, JobParamsCheck.seedRange)
            try JobParamsCheck.range("folds", folds, 2...20)
        }
    }
}

extension NeighboursJob {
    /// Which candidates a function's neighbours exclude.
    public enum Exclude: String, Sendable, CaseIterable {
        /// Every function of its own repository.
        case repo
        /// Only the function itself (for a single-repository corpus).
        case `self`
    }

    /// `neighbours`' parameters. Families: `linkage` (`average`, default, or `single`, the
    /// first rule) with τ = `min_similarity` when given, else the `similarity_quantile` (default
    /// 0.999) of random cross-repository pair similarities — for `single` only when that
    /// quantile is given (no threshold otherwise, as before).
    ///
    /// ```swift
    /// let p = try NeighboursJob.Params.decode(["space": "m.L3.body_mean", "k": 5], job: "neighbours")
    /// p.exclude   // .repo
    /// p.threshold // .quantile(0.999)
    /// ```
    public struct Params: JobParams, Equatable {
        public var space: String
        public var k = 10
        public var exclude = Exclude.repo
        public var minRepositories = 3
        /// Template families spelled out in the result.
        public var families = 20
        public var linkage = FamilyLinkage.average
        public var minSimilarity: Double?
        public var similarityQuantile: Double?
        /// Most central members shown per spelled-out family.
        public var examples = 5

        /// Default quantile of random-pair similarity for τ.
        public static let defaultQuantile = 0.999

        /// Where τ comes from.
        public enum Threshold: Equatable, Sendable {
            case none
            case explicit(Double)
            case quantile(Double)
        }

        public var threshold: Threshold {
            if let minSimilarity { return .explicit(minSimilarity) }
            if let similarityQuantile { return .quantile(similarityQuantile) }
            return linkage == .average ? .quantile(Self.defaultQuantile) : .none
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case space, k, exclude, minRepositories = "min_repositories", families, linkage
            case minSimilarity = "min_similarity", similarityQuantile = "similarity_quantile", examples
        }
        public static let knownKeys: Set<String>? = Set(CodingKeys.allCases.map(\.rawValue))

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            space = try c.requiredString(.space)
            k = try c.value(.k, default: k)
            exclude = try c.choice(.exclude, default: exclude)
            minRepositories = try c.value(.minRepositories, default: minRepositories)
            families = try c.value(.families, default: families)
            linkage = try c.choice(.linkage, default: linkage)
            minSimilarity = try c.decodeIfPresent(Double.self, forKey: .minSimilarity)
            similarityQuantile = try c.decodeIfPresent(Double.self, forKey: .similarityQuantile)
            examples = try c.value(.examples, default: examples)
        }

        public func validate() throws {
            try JobParamsCheck.spaceName("space", space)
            try checkMeanSpace(space, job: "neighbours")
            try JobParamsCheck.range("k", k, 1...1_000)
            try JobParamsCheck.range("min_repositories", minRepositories, 1...1_000)
            try JobParamsCheck.range("families", families, 0...10_000)
            try JobParamsCheck.range("examples", examples, 0...1_000)
            try JobParamsCheck.range("min_similarity", minSimilarity, -1e6...1e6)
            if let q = similarityQuantile, !(q > 0 && q <= 1) {
                throw JobParamsCheck.bad("'similarity_quantile' must be in (0, 1], got \(q)")
            }
            if minSimilarity != nil && similarityQuantile != nil {  // a rule between fields: 422, as for search knobs
                throw APIError.unprocessable("give 'min_similarity' or 'similarity_quantile', not both", code: "conflicting_parameters")
            }
        }
    }
}

/// A space name given for a job that needs one vector per function: a token space is a 422 (the
/// name is well formed; what it names does not suit the job).
private func checkMeanSpace(_ space: String, job: String) throws {
    if space.hasSuffix("_tokens") {
        throw APIError.unprocessable("space '\(space)' holds token matrices; \(job) needs one vector per function (a *_mean space, e.g. \(space.dropLast("_tokens".count))_mean)",
                                     code: "wrong_space_kind")
    }
}
