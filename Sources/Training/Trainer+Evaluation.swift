import Core

extension Trainer {
    /// L2-normalised predictions `[indices.count, targetDim]` of the current model (eval mode).
    public func predict(_ indices: [Int]) throws -> [Float] {
        let din = data.inputDim, dt = data.targetDim
        var out = [Float](repeating: 0, count: indices.count * dt)
        var start = 0
        while start < indices.count {
            let chunk = Array(indices[start..<min(indices.count, start + config.evalBatchSize)])
            var tokens: [Float] = [], offsets = [0]
            for i in chunk {
                let s = data.offsets[i], l = min(data.offsets[i + 1] - s, config.maxTokens)
                tokens.append(contentsOf: data.tokens[(s * din)..<((s + l) * din)])
                offsets.append(offsets.last! + l)
            }
            let p = try model.predict(tokens: tokens, offsets: offsets)
            let n = normalizeRows(p, dim: dt)
            for k in 0..<n.count { out[start * dt + k] = n[k] }
            start += chunk.count
        }
        return out
    }

    /// Predictions for every function of the corpus (the student space), L2-normalised.
    public func predictAll() throws -> [Float] { try predict(Array(0..<data.count)) }

    /// Rank@1, Rank@10, MRR of these functions' predictions among all functions.
    public func evaluate(_ indices: [Int]) throws -> RetrievalMetrics {
        try rankMetrics(queries: predict(indices), truth: indices)
    }

    func rankMetrics(queries: [Float], truth: [Int]) throws -> RetrievalMetrics {
        if truth.isEmpty { return Retrieval.metrics(ranks: []) }
        return Retrieval.metrics(ranks: try Retrieval.ranks(queries: queries, database: normalizedTargets, dim: data.targetDim,
                                                            truth: truth, groups: data.duplicateGroups))
    }

    /// Random unit vectors as predictions (seeded by the run's seed).
    public func randomBaseline(_ indices: [Int]) throws -> RetrievalMetrics {
        var rng = TrainingRNG(seed: config.seed, stream: 3)
        let q = (0..<(indices.count * data.targetDim)).map { _ in Float(rng.normal()) }
        return try rankMetrics(queries: normalizeRows(q, dim: data.targetDim), truth: indices)
    }

    /// The teacher's `sig_mean` as the prediction, centred on its own train mean and normalised
    /// (nil when the data carries no signature means).
    public func signatureMeanBaseline(_ indices: [Int]) throws -> RetrievalMetrics? {
        guard let s = data.signatureMeans else { return nil }
        let dt = data.targetDim
        let mean = rowMean(s, dim: dt, rows: split.train)
        var q = [Float](repeating: 0, count: indices.count * dt)
        for (r, i) in indices.enumerated() { for k in 0..<dt { q[r * dt + k] = s[i * dt + k] } }
        return try rankMetrics(queries: centreAndNormalize(q, dim: dt, mean: mean), truth: indices)
    }
}

/// Row-wise L2 normalisation of a flat matrix.
func normalizeRows(_ x: [Float], dim: Int) -> [Float] {
    centreAndNormalize(x, dim: dim, mean: [Float](repeating: 0, count: dim))
}
