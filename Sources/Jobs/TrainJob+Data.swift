import Core
import Foundation
import Store
import Training

extension TrainJob {
    /// The corpus as the trainer wants it, with the function id of every row.
    struct LoadedData: Sendable {
        var ids: [Int64]
        var data: TrainingData
        var repositories: Int
        var groups: Int
        var skippedStale: Int
        /// Functions left out because the target tokens space has no rows for them.
        var skippedNoTargetTokens = 0
    }

    /// The first `cap` target token rows of each candidate, packed once (`rows[id]` = its start row
    /// and row count), and the candidates that have some, in packed order.
    struct PackedTargetTokens {
        var values: [Float] = []
        var rows: [Int64: (start: Int, count: Int)] = [:]
        var order: [Int64] = []
    }

    /// Reads the token space in chunks of ids so only the kept rows (at most `cap` per function) are held.
    static func loadTargetTokens(store: any StoreBackend, space: SpaceRecord, candidates: [Int64], cap: Int) async throws -> PackedTargetTokens {
        var out = PackedTargetTokens()
        let dt = space.dim
        for start in stride(from: 0, to: candidates.count, by: 512) {
            let batch = try await store.vectors(space: space.name, ids: Array(candidates[start..<min(candidates.count, start + 512)]))
            var row = 0
            for (i, id) in batch.ids.enumerated() {
                let keep = min(batch.rows[i], cap)
                if keep >= 1 && out.rows[id] == nil {
                    out.rows[id] = (out.values.count / dt, keep)
                    out.order.append(id)
                    out.values.append(contentsOf: batch.values[(row * dt)..<((row + keep) * dt)])
                }
                row += batch.rows[i]
            }
        }
        return out
    }

    /// Reads both spaces and keeps the functions that have a fresh vector in each; repositories (or
    /// directories) and duplicate groups (body hash) come from the store. Token matrices are cut to
    /// `maxTokens` rows here (the trainer would ignore the rest), while the `sig_mean` baseline uses
    /// every token.
    static func load(store: any StoreBackend, input: SpaceRecord, target: SpaceRecord, maxTokens: Int,
                     splitBy: SplitBy, targetTokens: SpaceRecord? = nil, maxTargetTokens: Int = 64) async throws -> LoadedData {
        let inputs = try await store.vectors(space: input.name, ids: nil)
        let targets = try await store.vectors(space: target.name, ids: nil)
        let stale = Set(try await store.functionsMissingVectors(spaces: [input.name, target.name] + (targetTokens.map { [$0.name] } ?? []),
                                                                repo: nil))
        var targetRow = [Int64: Int](minimumCapacity: targets.ids.count)
        for (i, id) in targets.ids.enumerated() { targetRow[id] = i }
        var candidates = [Int64]()
        var skippedStale = 0
        for id in inputs.ids where targetRow[id] != nil {
            if stale.contains(id) { skippedStale += 1 } else { candidates.append(id) }
        }
        // token_decoder: functions without target token rows are dropped like those without a target.
        var packed: PackedTargetTokens?
        var skippedNoTokens = 0
        if let space = targetTokens {
            let p = try await loadTargetTokens(store: store, space: space, candidates: candidates, cap: maxTargetTokens)
            skippedNoTokens = candidates.count - p.order.count
            candidates = p.order
            packed = p
        }
        let facts = try await store.functionFacts(ids: candidates)
        var paths = [Int64: String]()
        if splitBy == .directory {
            for (id, s) in try await store.functionSummaries(ids: candidates) { paths[id] = s.path }
        }
        var loaded = try build(inputs: inputs, targets: targets, targetRow: targetRow, candidates: candidates, facts: facts,
                               paths: paths, input: input, target: target, maxTokens: maxTokens, splitBy: splitBy,
                               skippedStale: skippedStale)
        if var p = packed {
            // Compact the packed rows in place to the kept functions (a subsequence in packed order).
            let dt = target.dim
            var write = 0, offsets = [0]
            offsets.reserveCapacity(loaded.ids.count + 1)
            p.values.withUnsafeMutableBufferPointer { v in
                for id in loaded.ids {
                    let (start, count) = p.rows[id]!
                    if start * dt != write { for k in 0..<(count * dt) { v[write + k] = v[start * dt + k] } }
                    write += count * dt
                    offsets.append(offsets.last! + count)
                }
            }
            p.values.removeLast(p.values.count - write)
            p.rows = [:]
            loaded.data = try loaded.data.withTargetTokens(p.values, offsets: offsets)
            loaded.skippedNoTargetTokens = skippedNoTokens
        }
        return loaded
    }

    // swiftlint:disable:next function_parameter_count
    private static func build(inputs: VectorBatch, targets: VectorBatch, targetRow: [Int64: Int], candidates: [Int64],
                              facts: [Int64: FunctionFacts], paths: [Int64: String], input: SpaceRecord, target: SpaceRecord,
                              maxTokens: Int, splitBy: SplitBy, skippedStale: Int) throws -> LoadedData {
        let din = input.dim, dt = target.dim
        var inputOffset = [Int64: (start: Int, rows: Int)](minimumCapacity: inputs.ids.count)
        var row = 0
        for (i, id) in inputs.ids.enumerated() {
            inputOffset[id] = (row, inputs.rows[i])
            row += inputs.rows[i]
        }
        let withBaseline = din == dt
        var ids = [Int64](), tokens = [Float](), offsets = [0], y = [Float](), means = [Float]()
        var repoNames = [String](), hashes = [String]()
        ids.reserveCapacity(candidates.count)
        y.reserveCapacity(candidates.count * dt)
        for id in candidates {
            guard let f = facts[id], let (start, rows) = inputOffset[id], let t = targetRow[id], rows >= 1 else { continue }
            ids.append(id)
            let keep = input.kind.isTokens ? min(rows, maxTokens) : rows
            tokens.append(contentsOf: inputs.values[(start * din)..<((start + keep) * din)])
            offsets.append(offsets.last! + keep)
            y.append(contentsOf: targets.values[(t * dt)..<((t + 1) * dt)])
            if withBaseline {
                // `rowMean` lives in the optimised Training module (this one is not, in debug builds).
                means.append(contentsOf: rowMean(inputs.values, dim: din, rows: Array(start..<(start + rows))))
            }
            var group = f.repo
            if splitBy == .directory, let path = paths[id] {
                group += "/" + (path.split(separator: "/").first.map(String.init) ?? path)
            }
            repoNames.append(group)
            hashes.append(f.bodyHash)
        }
        guard !ids.isEmpty else {
            throw APIError.unprocessable("no function has a fresh vector in both '\(input.name)' and '\(target.name)'", code: "no_training_data")
        }
        let repoIndex = Dictionary(uniqueKeysWithValues: Set(repoNames).sorted().enumerated().map { ($1, $0) })
        var groupIndex = [String: Int]()
        let groups = hashes.map { h in
            if let g = groupIndex[h] { return g }
            groupIndex[h] = groupIndex.count
            return groupIndex.count - 1
        }
        let data = try TrainingData(inputDim: din, targetDim: dt, tokens: tokens, offsets: offsets, targets: y,
                                    repositories: repoNames.map { repoIndex[$0]! }, duplicateGroups: groups,
                                    signatureMeans: withBaseline ? means : nil)
        return LoadedData(ids: ids, data: data, repositories: repoIndex.count, groups: groupIndex.count, skippedStale: skippedStale)
    }
}
