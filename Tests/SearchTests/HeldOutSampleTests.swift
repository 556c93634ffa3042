import Core
import Testing
@testable import Search

/// The rows a rebuild holds out for calibration: the ids of smallest seeded hash whatever the batch
/// order, every row either held or passed on exactly once, values travelling with their ids.
@Suite struct HeldOutSampleTests {
    static let dim = 3
    static func batch(_ ids: [Int64]) -> VectorBatch {
        VectorBatch(ids: ids, values: ids.flatMap { id in (0..<dim).map { Float(id) * 10 + Float($0) } })
    }

    @Test(arguments: [1, 7, 64, 1_000])
    func theSmallestHashesAreHeldWhateverTheBatching(batchSize: Int) {
        let ids = (0..<500).map { Int64($0) * 7 - 300 }
        var order = ids
        var rng = SplitMix64(seed: UInt64(batchSize))
        order.shuffle(using: &rng)
        var held = HeldOutSample(size: 40, dim: Self.dim, seed: 19)
        var passed: [Int64] = [], passedValues: [Float] = []
        for start in stride(from: 0, to: order.count, by: batchSize) {
            let out = held.offer(Self.batch(Array(order[start..<min(start + batchSize, order.count)])))
            passed += out.ids
            passedValues += out.values
        }
        // Expected independently: sort every id by its hash.
        let expected = ids.sorted { HeldOutSample.hash($0, seed: 19) < HeldOutSample.hash($1, seed: 19) }.prefix(40)
        #expect(held.ids == Array(expected))
        #expect(Set(passed).count == passed.count && passed.count == ids.count - 40)
        #expect(Set(passed).union(held.ids) == Set(ids))
        #expect(passedValues == Self.batch(passed).values)
        #expect(held.values == Self.batch(held.ids).values)
    }

    @Test func fewerRowsThanTheSizeAreAllHeldAndSizeZeroHoldsNone() {
        var small = HeldOutSample(size: 10, dim: Self.dim, seed: 19)
        #expect(small.offer(Self.batch([1, 2, 3])).ids.isEmpty)
        #expect(Set(small.ids) == [1, 2, 3])
        var none = HeldOutSample(size: 0, dim: Self.dim, seed: 19)
        #expect(none.offer(Self.batch([1, 2, 3])) == Self.batch([1, 2, 3]))
        #expect(none.isEmpty)
    }

    @Test func anotherSeedHoldsOtherRows() {
        var a = HeldOutSample(size: 20, dim: Self.dim, seed: 19), b = HeldOutSample(size: 20, dim: Self.dim, seed: 20)
        let all = Self.batch((0..<300).map(Int64.init))
        _ = a.offer(all); _ = b.offer(all)
        #expect(a.ids != b.ids)
    }
}
