import Foundation
import Testing
import TestSupport
@testable import Training
import Core

@Suite(.ownThreads) struct ScheduleAndBatchTests {
    @Test func warmupThenCosine() {
        let base = 1e-3, total = 100, warmup = 10
        let lr = (0...total).map { Ops.learningRate(step: $0, total: total, warmup: warmup, base: base, minRatio: 0.1) }
        #expect(abs(lr[0] - base / 10) < 1e-15)
        #expect(abs(lr[9] - base) < 1e-15)
        #expect(abs(lr[10] - base) < 1e-15)                        // cosine starts at the peak
        #expect(abs(lr[55] - base * (0.1 + 0.9 * 0.5)) < 1e-12)    // half-way: midpoint
        #expect(abs(lr[100] - base * 0.1) < 1e-15)
        for s in 1..<warmup { #expect(lr[s] > lr[s - 1]) }
        for s in (warmup + 1)...total { #expect(lr[s] < lr[s - 1]) }
    }

    @Test func temperatureIsClampedOrFixed() throws {
        let data = try syntheticData(count: 200)
        var m = ModelConfig(kind: .mlp, inputDim: 16, outputDim: 16)
        m.mlpHidden = 32; m.temperatureInit = 0.07; m.temperatureMin = 0.06; m.temperatureMax = 0.075
        var c = TrainingConfig(model: m)
        c.epochs = 3; c.batchSize = 16; c.optimizer.learningRate = 0.05; c.patience = 0
        let t = try Trainer(config: c, data: data)
        let r = try t.run()
        let tau = Double(t.model.temperature)
        #expect(tau >= 0.06 * (1 - 1e-6) && tau <= 0.075 * (1 + 1e-6))
        #expect(r.epochs.contains { abs($0.temperature - 0.07) > 1e-4 })  // it did move
        c.model.learnTemperature = false
        let fixed = try Trainer(config: c, data: data)
        _ = try fixed.run()
        #expect(abs(Double(fixed.model.temperature) - 0.07) < 1e-6)
    }

    @Test func batchesMaskDuplicatesAndAppendHardNegatives() throws {
        // 12 functions, 4 repos; functions 0/1 and 4/5 are duplicates.
        var rng = TrainingRNG(seed: 40)
        let n = 12, dim = 4
        let groups = [0, 0, 2, 3, 4, 4, 6, 7, 8, 9, 10, 11]
        let data = try TrainingData(inputDim: dim, targetDim: dim,
                                    tokens: (0..<(n * 2 * dim)).map { _ in Float(rng.normal()) },
                                    offsets: (0...n).map { $0 * 2 }, targets: (0..<(n * dim)).map { _ in Float(rng.normal()) },
                                    repositories: (0..<n).map { $0 % 4 }, duplicateGroups: groups,
                                    hardNegatives: (0..<n).map { i in [(i + 1) % n, (i + 2) % n, (i + 5) % n] })
        var m = ModelConfig(kind: .mlp, inputDim: dim, outputDim: dim)
        m.mlpHidden = 8
        var c = TrainingConfig(model: m)
        c.hardNegatives = 2; c.maxTokens = 1
        let t = try Trainer(config: c, data: data)
        let train = t.split.train
        for idx in [Array(train.prefix(3)), train] {
            let b = t.makeBatch(idx)
            #expect(b.offsets == Array(0...idx.count))                   // capped at maxTokens
            let cols = b.targets.count / dim
            let lists = t.hardNegativeLists!
            var expected = idx
            for i in idx { for h in lists[i].prefix(2) where !expected.contains(h) { expected.append(h) } }
            #expect(cols == expected.count)
            #expect(lists.enumerated().allSatisfy { i, l in l.allSatisfy { train.contains($0) } || !train.contains(i) })
            for (r, i) in idx.enumerated() {
                for (cIdx, j) in expected.enumerated() {
                    let masked = b.exclude.map { $0[r * cols + cIdx] != 0 } ?? false
                    #expect(masked == (cIdx != r && groups[i] == groups[j]), "row \(i) col \(j)")
                }
                // Targets are the centred, normalised rows.
                for k in 0..<dim { #expect(b.targets[r * dim + k] == t.normalizedTargets[i * dim + k]) }
            }
        }
        // A batch holding both members of a duplicate pair has a mask; one without, none.
        let pairs = [(0, 1), (4, 5)].filter { train.contains($0.0) && train.contains($0.1) }
        #expect(pairs.isEmpty == (t.makeBatch(train).exclude == nil))
    }
}

@Test func configsDecodeWithDefaultsAndRoundTrip() throws {
    let dec = JSONDecoder()
    dec.keyDecodingStrategy = .convertFromSnakeCase
    let json = #"{"model":{"kind":"mlp","loss":"smooth_l1","mlp_hidden":99},"batch_size":32,"optimizer":{"learning_rate":0.001}}"#
    let c = try dec.decode(TrainingConfig.self, from: Data(json.utf8))
    #expect(c.model.kind == .mlp && c.model.loss == .smoothL1 && c.model.mlpHidden == 99)
    #expect(c.batchSize == 32 && c.optimizer.learningRate == 0.001)
    #expect(c.epochs == TrainingConfig(model: c.model).epochs && c.optimizer.beta2 == 0.999 && c.model.dModel == 512)
    #expect(throws: (any Error).self) { try c.validate() }    // dims come from the spaces
    var full = c
    full.model.inputDim = 384; full.model.outputDim = 384; full.optimizer.warmupSteps = 7
    try full.validate()
    #expect(try JSONDecoder().decode(TrainingConfig.self, from: JSONEncoder().encode(full)) == full)
    #expect(throws: (any Error).self) { try dec.decode(TrainingConfig.self, from: Data(#"{"model":{"kind":"rnn"}}"#.utf8)) }
}

@Test func divergenceThrowsAClearError() throws {
    var m = ModelConfig(kind: .mlp, inputDim: 16, outputDim: 16)
    m.loss = .smoothL1; m.mlpHidden = 16
    var c = TrainingConfig(model: m)
    c.optimizer.learningRate = 1e30; c.optimizer.gradClip = 0; c.optimizer.warmupSteps = 0; c.epochs = 3; c.batchSize = 8
    let t = try Trainer(config: c, data: try syntheticData(count: 120))
    do { _ = try t.run(); Issue.record("a run with a learning rate of 1e30 finished") }
    catch TrainingError.diverged(let step, let loss) { #expect(step >= 1 && !loss.isFinite) }
}
