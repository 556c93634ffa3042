import Core

extension DataSplit {
    /// The most folds a run may ask for (`train`'s `folds` param).
    public static let maxFolds = 20

    /// `k` repository folds, seeded: one split per fold, whose test part is that fold's repositories and
    /// whose train and validation parts share the other repositories as `byRepository` shares them
    /// (80 : 10, the validation repositories last). Repositories are shuffled with `byRepository`'s
    /// stream, then each goes to the fold with the fewest functions so far (the lowest fold on a tie),
    /// so every function is in exactly one test part and no repository is in two parts of a split.
    /// Needs ≥ 3 repositories, 2 ≤ `k` ≤ repositories, and ≥ 2 repositories outside every fold.
    ///
    /// ```swift
    /// let splits = try DataSplit.folds(data.repositories, k: 5, seed: 0)   // splits[i].test: fold i's functions
    /// ```
    public static func folds(_ repositories: [Int], k: Int, seed: UInt64,
                             trainFraction: Double = 0.8, validationFraction: Double = 0.1) throws -> [DataSplit] {
        var byRepo: [Int: [Int]] = [:]
        for (i, r) in repositories.enumerated() { byRepo[r, default: []].append(i) }
        var repos = byRepo.keys.sorted()
        guard repos.count >= 3 else { throw TrainingError.tooFewRepositories(repos.count) }
        guard (2...repos.count).contains(k) else {
            throw TrainingError.invalidArgument("\(k) folds need at least \(k) repositories (split groups), there are \(repos.count)")
        }
        var rng = TrainingRNG(seed: seed, stream: 2)
        rng.shuffle(&repos)
        var members = [[Int]](repeating: [], count: k)  // repositories per fold, in shuffled order
        var sizes = [Int](repeating: 0, count: k)
        for r in repos {
            let f = sizes.indices.min { sizes[$0] < sizes[$1] }!
            members[f].append(r)
            sizes[f] += byRepo[r]!.count
        }
        func indices(_ rs: [Int]) -> [Int] { rs.flatMap { byRepo[$0]! }.sorted() }
        let trainShare = trainFraction / (trainFraction + validationFraction)
        return try (0..<k).map { fold in
            let rest = repos.filter { !members[fold].contains($0) }  // shuffled order
            guard rest.count >= 2 else {
                throw TrainingError.invalidArgument("fold \(fold) leaves \(rest.count) repository for train and validation; use fewer folds")
            }
            let n = Double(rest.reduce(0) { $0 + byRepo[$1]!.count })
            var train = [Int](), validation = [Int]()
            var seen = 0
            for r in rest {
                if Double(seen) / n < trainShare { train.append(r) } else { validation.append(r) }
                seen += byRepo[r]!.count
            }
            if validation.isEmpty { validation.append(train.removeLast()) }
            return DataSplit(train: indices(train), validation: indices(validation), test: indices(members[fold]))
        }
    }
}
