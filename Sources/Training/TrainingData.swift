import Core

/// The corpus a student trains on: per function an input (a token matrix, or a single vector),
/// a target vector, its repository and its duplicate group.
///
/// ```swift
/// // sig_tokens input: function 0 has 3 tokens, function 1 has 2 (D = 384)
/// let data = try TrainingData(inputDim: 384, targetDim: 384, tokens: tok, offsets: [0, 3, 5],
///                             targets: body, repositories: [7, 9], duplicateGroups: [0, 1])
/// // sig_mean input: one "token" per function
/// let data2 = try TrainingData(vectors: sigMean, inputDim: 384, targets: body, targetDim: 384, …)
/// ```
public struct TrainingData: Sendable {
    public let inputDim: Int
    public let targetDim: Int
    /// Packed `[Σ Lᵢ, inputDim]`; function i owns rows offsets[i]..<offsets[i+1].
    public let tokens: [Float]
    public let offsets: [Int]
    /// Raw targets `[count, targetDim]` (the trainer centres and normalises them).
    public let targets: [Float]
    public let repositories: [Int]
    /// Functions with equal values are duplicates (give singletons distinct values).
    public let duplicateGroups: [Int]
    /// The teacher's `sig_mean` vectors `[count, targetDim]` for the no-training baseline (optional).
    public let signatureMeans: [Float]?
    /// Optional nearest neighbours in target space per function (indices), used as hard negatives.
    public let hardNegatives: [[Int]]?
    /// `token_decoder`: the teacher's raw hidden states at each function's body tokens, packed
    /// `[Σ Tᵢ, targetDim]` (function i owns rows targetTokenOffsets[i]..<targetTokenOffsets[i+1],
    /// Tᵢ ≥ 1; keep only the first `maxTargetTokens` rows when loading). One copy: the trainer
    /// centres and normalises each batch's rows as it builds the batch.
    public private(set) var targetTokens: [Float]?
    public private(set) var targetTokenOffsets: [Int]?

    public var count: Int { offsets.count - 1 }

    public init(inputDim: Int, targetDim: Int, tokens: [Float], offsets: [Int], targets: [Float],
                repositories: [Int], duplicateGroups: [Int], signatureMeans: [Float]? = nil,
                hardNegatives: [[Int]]? = nil) throws {
        func bad(_ m: String) -> TrainingError { .invalidTrainingData(m) }
        let n = offsets.count - 1
        guard inputDim > 0, targetDim > 0 else { throw bad("dimensions must be positive") }
        guard n >= 1, offsets[0] == 0 else { throw bad("need at least one function and offsets starting at 0") }
        for i in 0..<n where offsets[i + 1] <= offsets[i] {
            throw bad("function \(i) has no input tokens")
        }
        guard tokens.count == offsets[n] * inputDim else {
            throw bad("\(tokens.count) token values for \(offsets[n]) tokens of dim \(inputDim)")
        }
        guard targets.count == n * targetDim else { throw bad("\(targets.count) target values for \(n) × \(targetDim)") }
        guard repositories.count == n, duplicateGroups.count == n else {
            throw bad("repositories (\(repositories.count)) and duplicateGroups (\(duplicateGroups.count)) need \(n) entries")
        }
        if let s = signatureMeans, s.count != n * targetDim {
            throw bad("signatureMeans has \(s.count) values; the baseline needs \(n) × \(targetDim) (input and target dims must match)")
        }
        if let h = hardNegatives {
            guard h.count == n else { throw bad("hardNegatives needs \(n) lists") }
            guard h.allSatisfy({ $0.allSatisfy { (0..<n).contains($0) } }) else { throw bad("a hard negative index is out of range") }
        }
        guard tokens.allSatisfy(\.isFinite), targets.allSatisfy(\.isFinite) else { throw bad("non-finite values") }
        self.inputDim = inputDim; self.targetDim = targetDim; self.tokens = tokens; self.offsets = offsets
        self.targets = targets; self.repositories = repositories; self.duplicateGroups = duplicateGroups
        self.signatureMeans = signatureMeans; self.hardNegatives = hardNegatives
    }

    /// The same corpus with target token matrices (`token_decoder`): `offsets` has `count + 1`
    /// entries from 0, each function at least one row, all values finite.
    ///
    /// ```swift
    /// let d = try data.withTargetTokens(bodyTokens, offsets: [0, 64, 70])   // 2 functions, 64 and 6 rows
    /// ```
    public func withTargetTokens(_ tokens: [Float], offsets: [Int]) throws -> TrainingData {
        func bad(_ m: String) -> TrainingError { .invalidTrainingData(m) }
        guard offsets.count == count + 1, offsets[0] == 0 else {
            throw bad("target token offsets need \(count + 1) entries starting at 0, got \(offsets.count)")
        }
        for i in 0..<count where offsets[i + 1] <= offsets[i] { throw bad("function \(i) has no target tokens") }
        guard tokens.count == offsets[count] * targetDim else {
            throw bad("\(tokens.count) target token values for \(offsets[count]) tokens of dim \(targetDim)")
        }
        guard tokens.allSatisfy(\.isFinite) else { throw bad("non-finite target token values") }
        var d = self
        d.targetTokens = tokens
        d.targetTokenOffsets = offsets
        return d
    }

    /// Fixed-vector inputs (e.g. `sig_mean`): one token per function.
    public init(vectors: [Float], inputDim: Int, targets: [Float], targetDim: Int, repositories: [Int],
                duplicateGroups: [Int], signatureMeans: [Float]? = nil, hardNegatives: [[Int]]? = nil) throws {
        guard inputDim > 0 else { throw TrainingError.invalidTrainingData("inputDim must be positive") }
        let n = vectors.count / inputDim
        try self.init(inputDim: inputDim, targetDim: targetDim, tokens: vectors, offsets: Array(0...n), targets: targets,
                      repositories: repositories, duplicateGroups: duplicateGroups, signatureMeans: signatureMeans,
                      hardNegatives: hardNegatives)
    }

    /// A cheap fingerprint (FNV-1a over sizes, repositories, groups and target bits) to refuse
    /// resuming a checkpoint on different data.
    public var fingerprint: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: UInt64) { h = (h ^ v) &* 0x100_0000_01b3 }
        mix(UInt64(count)); mix(UInt64(inputDim)); mix(UInt64(targetDim)); mix(UInt64(tokens.count))
        for r in repositories { mix(UInt64(bitPattern: Int64(r))) }
        for g in duplicateGroups { mix(UInt64(bitPattern: Int64(g))) }
        for t in targets { mix(UInt64(t.bitPattern)) }
        if let o = targetTokenOffsets { for v in o { mix(UInt64(v)) } }
        return String(h, radix: 16)
    }
}

/// Function indices of the train / validation / test parts.
///
/// ```swift
/// let split = try DataSplit.byRepository(data.repositories, seed: 0)   // split.train, .validation, .test
/// ```
public struct DataSplit: Codable, Sendable, Equatable {
    public var train: [Int]
    public var validation: [Int]
    public var test: [Int]

    /// Split by repository (no repository in two parts), seeded: repositories are shuffled, then
    /// taken in order — a repository whose first function falls in the first 80 % of functions goes
    /// to train, the next 10 % to validation, the rest to test. Needs ≥ 3 repositories.
    public static func byRepository(_ repositories: [Int], seed: UInt64,
                                    trainFraction: Double = 0.8, validationFraction: Double = 0.1) throws -> DataSplit {
        var byRepo: [Int: [Int]] = [:]
        for (i, r) in repositories.enumerated() { byRepo[r, default: []].append(i) }
        var repos = byRepo.keys.sorted()
        guard repos.count >= 3 else {
            throw TrainingError.tooFewRepositories(repos.count)
        }
        var rng = TrainingRNG(seed: seed, stream: 2)
        rng.shuffle(&repos)
        let n = Double(repositories.count)
        var parts: [[Int]] = [[], [], []]  // repository ids per part
        var seen = 0
        for r in repos {
            let start = Double(seen) / n
            parts[start < trainFraction ? 0 : start < trainFraction + validationFraction ? 1 : 2].append(r)
            seen += byRepo[r]!.count
        }
        // No empty part: borrow the last repository of the largest part.
        for p in [2, 1] where parts[p].isEmpty {
            let donor = parts[0].count > 1 ? 0 : (p == 2 ? 1 : 2)
            parts[p].append(parts[donor].removeLast())
        }
        func indices(_ rs: [Int]) -> [Int] { rs.flatMap { byRepo[$0]! }.sorted() }
        return DataSplit(train: indices(parts[0]), validation: indices(parts[1]), test: indices(parts[2]))
    }
}

/// Centre on a mean, then L2-normalise each row (rows of zero norm stay zero).
public func centreAndNormalize(_ x: [Float], dim: Int, mean: [Float]) -> [Float] {
    var out = x
    let n = x.count / dim
    out.withUnsafeMutableBufferPointer { p in
        for r in 0..<n {
            let row = p.baseAddress! + r * dim
            var s: Float = 0
            for j in 0..<dim { row[j] -= mean[j]; s += row[j] * row[j] }
            let inv: Float = s > 0 ? 1 / s.squareRoot() : 0
            for j in 0..<dim { row[j] *= inv }
        }
    }
    return out
}

/// Column means of the given rows.
public func rowMean(_ x: [Float], dim: Int, rows: [Int]) -> [Float] {
    var acc = [Double](repeating: 0, count: dim)
    for r in rows { for j in 0..<dim { acc[j] += Double(x[r * dim + j]) } }
    let inv = 1 / Double(max(rows.count, 1))
    return acc.map { Float($0 * inv) }
}
