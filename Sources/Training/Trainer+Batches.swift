extension Trainer {
    /// The batch for these functions: their (capped) tokens, their normalised targets, then the
    /// hard negatives of the batch (deduplicated, none inside the batch), and the mask of targets
    /// in the same duplicate group (not negatives); with a negative queue, the rows' duplicate groups.
    func makeBatch(_ idx: [Int]) -> Batch<Float> {
        let din = data.inputDim, dt = data.targetDim
        var tokens: [Float] = [], offsets = [0]
        tokens.reserveCapacity(idx.count * min(config.maxTokens, 32) * din)
        for i in idx {
            let start = data.offsets[i], l = min(data.offsets[i + 1] - start, config.maxTokens)
            tokens.append(contentsOf: data.tokens[(start * din)..<((start + l) * din)])
            offsets.append(offsets.last! + l)
        }
        var columns = idx
        if config.hardNegatives > 0, let lists = hardNegativeLists {
            var seen = Set(idx)
            for i in idx {
                for h in lists[i].prefix(config.hardNegatives) where !seen.contains(h) {
                    seen.insert(h)
                    columns.append(h)
                }
            }
        }
        var targets = [Float](repeating: 0, count: columns.count * dt)
        for (r, j) in columns.enumerated() {
            for k in 0..<dt { targets[r * dt + k] = normalizedTargets[j * dt + k] }
        }
        var exclude: [UInt8]? = nil
        if config.model.loss == .infoNCE {
            var m = [UInt8](repeating: 0, count: idx.count * columns.count)
            var any = false
            for (r, i) in idx.enumerated() {
                let g = data.duplicateGroups[i]
                for (c, j) in columns.enumerated() where c != r && data.duplicateGroups[j] == g {
                    m[r * columns.count + c] = 1
                    any = true
                }
            }
            if any { exclude = m }
        }
        let groups = negativeQueue == nil ? nil : idx.map { data.duplicateGroups[$0] }
        var batch = Batch(tokens: tokens, offsets: offsets, targets: targets, exclude: exclude, groups: groups)
        if let mean = targetTokenMean, let tt = data.targetTokens, let to = data.targetTokenOffsets {
            // The first maxTargetTokens rows of each function, centred on the train mean token, unit length.
            var rows: [Float] = [], toff = [0]
            for i in idx {
                let l = min(to[i + 1] - to[i], config.model.maxTargetTokens)
                rows.append(contentsOf: tt[(to[i] * dt)..<((to[i] + l) * dt)])
                toff.append(toff.last! + l)
            }
            batch.targetTokens = centreAndNormalize(rows, dim: dt, mean: mean)
            batch.targetTokenOffsets = toff
        }
        return batch
    }

    /// After a step: the batch functions' (detached, normalised) targets become the newest queue entries.
    func enqueueTargets(_ idx: [Int]) {
        guard let q = negativeQueue else { return }
        let dt = data.targetDim
        normalizedTargets.withUnsafeBufferPointer { t in
            for i in idx { q.enqueue(row: t.baseAddress! + i * dt, function: i, group: data.duplicateGroups[i]) }
        }
    }

    /// Per train function, its nearest train functions in target space outside its duplicate group
    /// (the caller's lists when given, restricted to train functions).
    func computeHardNegatives() -> [[Int]]? {
        guard config.hardNegatives > 0 else { return nil }
        let train = split.train
        var isTrain = [Bool](repeating: false, count: data.count)
        for i in train { isTrain[i] = true }
        if let given = data.hardNegatives {
            return given.map { $0.filter { isTrain[$0] } }
        }
        let dt = data.targetDim
        var q = [Float](repeating: 0, count: train.count * dt)
        for (r, i) in train.enumerated() { for k in 0..<dt { q[r * dt + k] = normalizedTargets[i * dt + k] } }
        let groups = data.duplicateGroups
        let lists = (try? Retrieval.topK(queries: q, database: q, dim: dt, k: config.hardNegatives) { a, b in
            groups[train[a]] == groups[train[b]]
        }) ?? []
        var out = [[Int]](repeating: [], count: data.count)
        for (r, i) in train.enumerated() where r < lists.count { out[i] = lists[r].map { train[$0] } }
        return out
    }
}
