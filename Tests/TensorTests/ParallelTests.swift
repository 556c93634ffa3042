import Testing
@testable import Tensor

struct ParallelTests {
    /// Each index of 0..<count is visited exactly once, by the part that owns it, for odd sizes and
    /// part counts (including more parts than items).
    @Test(arguments: [0, 1, 2, 7, 97, 1001])
    func eachCoversEveryIndexOnce(count: Int) {
        for parts in [1, 2, 3, 5, 8, 13] {
            var hits = [Int](repeating: 0, count: count)
            var owner = [Int](repeating: -1, count: count)
            var calls = [Int](repeating: 0, count: parts)
            hits.withUnsafeMutableBufferPointer { h in
                owner.withUnsafeMutableBufferPointer { o in
                    calls.withUnsafeMutableBufferPointer { cl in
                        Parallel.each(parts, count) { p, r in
                            cl[p] += 1
                            for i in r { h[i] += 1; o[i] = p }
                        }
                    }
                }
            }
            #expect(hits.allSatisfy { $0 == 1 }, "count \(count) parts \(parts)")
            #expect(calls == [Int](repeating: 1, count: parts), "count \(count) parts \(parts)")
            #expect(owner == owner.sorted(), "parts own contiguous, ordered ranges")
        }
    }

    /// `ranges` covers 0..<count once whatever the chunk bound and part cap.
    @Test func rangesCoverEveryIndexOnce() {
        for count in [0, 1, 5, 63, 1000] {
            for (minChunk, maxParts) in [(1, 3), (4, 7), (16, 64), (2000, 4), (0, 5)] {
                var hits = [Int](repeating: 0, count: count)
                hits.withUnsafeMutableBufferPointer { h in
                    Parallel.ranges(count, minChunk: minChunk, maxParts: maxParts) { r in for i in r { h[i] += 1 } }
                }
                #expect(hits.allSatisfy { $0 == 1 }, "count \(count) minChunk \(minChunk) maxParts \(maxParts)")
            }
        }
    }

    @Test func partsRespectBounds() {
        #expect(Parallel.parts(100, minChunk: 10, maxParts: 3) == 3)
        #expect(Parallel.parts(25, minChunk: 10, maxParts: 8) == 2)
        #expect(Parallel.parts(5, minChunk: 10, maxParts: 8) == 1)
        #expect(Parallel.parts(0, minChunk: 0, maxParts: 8) == 1)
    }

    @Test func performRunsEachIterationOnce() {
        for iterations in [1, 3, 17] {
            var hits = [Int](repeating: 0, count: iterations)
            hits.withUnsafeMutableBufferPointer { h in Parallel.perform(iterations) { h[$0] += 1 } }
            #expect(hits == [Int](repeating: 1, count: iterations))
        }
    }
}
