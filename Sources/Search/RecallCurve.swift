import Core
import Foundation

/// How well an approximate index finds the true neighbours, per value of its search knob
/// (`ef_search` for HNSW, `nprobe` for IVF), measured against exact search on a seeded sample
/// of the space's own vectors. Flat indexes are exact and have no curve.
///
///     let curve = try RecallCurve.measure(index: hnsw, exact: flat, ids: ids, generation: 7)
///     let pick = curve?.choose(target: 0.95)   // e.g. (value: 96, recall: 0.957, reached: true)
public struct RecallCurve: Codable, Sendable, Equatable {
    /// The knob a curve varies.
    public enum Knob: String, Codable, Sendable {
        case efSearch = "ef_search"
        case nprobe
    }

    /// Recall@k and single-thread latency at one knob value.
    public struct Point: Codable, Sendable, Equatable {
        public var value: Int
        public var recall: Double
        /// Mean wall time per query on one thread (reported, never relied on).
        public var microsPerQuery: Double
        enum CodingKeys: String, CodingKey {
            case value, recall
            case microsPerQuery = "us_per_query"
        }
    }

    /// The knob value a target asks for, the recall measured there, and whether it reaches the target
    /// (when no value does, the largest measured one is chosen).
    public struct Choice: Sendable, Equatable {
        public var value: Int
        public var recall: Double
        public var reached: Bool
    }

    public var knob: Knob
    public var factory: IndexFactory
    public var k: Int
    public var queries: Int
    public var seed: UInt64
    /// Store generation and live vector count of the index when it was measured.
    public var generation: UInt64
    public var count: Int
    public var measuredAt: Double
    /// True when the queries were kept out of the index while it was measured (every rebuild);
    /// false for a re-measurement of a live index, whose stored vectors are the queries: optimistic
    /// for HNSW, whose search reaches the query's own node (see `HeldOutSample`).
    public var heldOut: Bool
    public var points: [Point]

    enum CodingKeys: String, CodingKey {
        case knob, factory, k, queries, seed, generation, count, points
        case measuredAt = "measured_at", heldOut = "held_out"
    }

    public init(knob: Knob, factory: IndexFactory, k: Int, queries: Int, seed: UInt64, generation: UInt64,
                count: Int, measuredAt: Double, heldOut: Bool, points: [Point]) {
        self.knob = knob; self.factory = factory; self.k = k; self.queries = queries; self.seed = seed
        self.generation = generation; self.count = count; self.measuredAt = measuredAt
        self.heldOut = heldOut; self.points = points
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        knob = try c.decode(Knob.self, forKey: .knob)
        factory = try c.decode(IndexFactory.self, forKey: .factory)
        k = try c.decode(Int.self, forKey: .k)
        queries = try c.decode(Int.self, forKey: .queries)
        seed = try c.decode(UInt64.self, forKey: .seed)
        generation = try c.decode(UInt64.self, forKey: .generation)
        count = try c.decode(Int.self, forKey: .count)
        measuredAt = try c.decode(Double.self, forKey: .measuredAt)
        heldOut = try c.decodeIfPresent(Bool.self, forKey: .heldOut) ?? false   // files written before held-out queries
        points = try c.decode([Point].self, forKey: .points)
    }

    /// The ladder stops at the first value whose recall reaches this (or once a step above 0.99 gains
    /// less than 0.0005): the larger values cost the most to measure (at 15k stdlib vectors, ef 256…768
    /// took 3.5 of a 4.6 s ladder) and only serve targets above it. A target above the last point is
    /// answered with the last point, `reached` false.
    public static let ceiling = 0.995

    /// Sample size and k of a measurement.
    public static let sampleQueries = 500
    public static let k = 10
    public static let defaultSeed: UInt64 = 19

    /// Smallest measured knob value whose recall reaches `target` (points are in increasing value).
    public func choose(target: Double) -> Choice? {
        guard let last = points.last else { return nil }
        if let p = points.first(where: { $0.recall >= target }) {
            return Choice(value: p.value, recall: p.recall, reached: true)
        }
        return Choice(value: last.value, recall: last.recall, reached: false)
    }

    /// The search parameters that use `choice` for this curve's knob.
    public func params(_ choice: Choice) -> SearchParams {
        knob == .efSearch ? SearchParams(efSearch: choice.value) : SearchParams(nprobe: choice.value)
    }

    /// Knob values measured for a factory (nil: the index is exact).
    public static func ladder(for factory: IndexFactory) -> (Knob, [Int])? {
        switch factory.kind {
        case .flat:
            return nil
        case .hnsw:
            return (.efSearch, [16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768])
        case let .ivfFlat(nlist), let .ivfPQ(nlist, _, _):
            var values: [Int] = []
            var v = 1
            while v < nlist { values.append(v); v *= 2 }
            values.append(nlist)
            return (.nprobe, values)
        }
    }

    /// Measures `index` against `exact` (a Flat index holding the same vectors under the same ids,
    /// with the same metric). Up to `sampleQueries` stored vectors, picked by a seeded shuffle of the
    /// sorted ids, are the queries; each search asks for k + 1 hits and drops the query itself, so
    /// a vector finding itself never counts. In-sample: optimistic for HNSW (`heldOut` false).
    /// Blocking: run it on a build or search thread.
    public static func measure(index: VectorIndex, exact: VectorIndex, ids: [Int64], generation: UInt64,
                               sampleQueries: Int = sampleQueries, k: Int = k, seed: UInt64 = defaultSeed) throws -> RecallCurve? {
        guard ladder(for: index.factory) != nil, ids.count > k else { return nil }
        let sorted = ids.sorted()
        let order = SplitMix64.permutation(count: sorted.count, seed: seed)
        let queryIDs = order.prefix(sampleQueries).map { sorted[$0] }
        var queries: [Float] = []
        queries.reserveCapacity(queryIDs.count * exact.dim)
        for id in queryIDs { queries += try exact.vector(for: id) }
        return try measure(index: index, exact: exact, queries: queries, selfIDs: queryIDs, generation: generation,
                           count: index.count, k: k, seed: seed)
    }

    /// Measures `index` against `exact` (the same vectors, ids and metric) with `queries` that
    /// neither holds: a held-out sample (`heldOut` true). `count` is the index size the curve is
    /// stamped with (the size once the held-out rows are added back).
    public static func measure(index: VectorIndex, exact: VectorIndex, heldOut queries: [Float], generation: UInt64,
                               count: Int, k: Int = k, seed: UInt64 = defaultSeed) throws -> RecallCurve? {
        guard ladder(for: index.factory) != nil, exact.count >= k, !queries.isEmpty else { return nil }
        return try measure(index: index, exact: exact, queries: queries, selfIDs: nil, generation: generation,
                           count: count, k: k, seed: seed)
    }

    /// One measurement over the ladder. With `selfIDs` (query i is stored vector selfIDs[i]) each
    /// search asks for k + 1 and drops the query itself.
    private static func measure(index: VectorIndex, exact: VectorIndex, queries: [Float], selfIDs: [Int64]?,
                                generation: UInt64, count: Int, k: Int, seed: UInt64) throws -> RecallCurve? {
        guard let (knob, values) = ladder(for: index.factory) else { return nil }
        let nq = queries.count / exact.dim
        let extra = selfIDs == nil ? 0 : 1
        func kept(_ hits: [Hit], _ i: Int) -> [Int64] {
            let ids = hits.lazy.map(\.id)
            guard let selfIDs else { return Array(ids.prefix(k)) }
            return Array(ids.filter { $0 != selfIDs[i] }.prefix(k))
        }
        let one = SearchParams(threads: 1)
        let truth = try exact.search(queries: queries, k: k + extra, params: one)
        let truthSets = truth.enumerated().map { i, hits in Set(kept(hits, i)) }
        var points: [Point] = []
        for value in values {
            var p = knob == .efSearch ? SearchParams(efSearch: value) : SearchParams(nprobe: value)
            p.threads = 1
            let started = DispatchTime.now().uptimeNanoseconds
            let found = try index.search(queries: queries, k: k + extra, params: p)
            let micros = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000 / Double(max(nq, 1))
            var hit = 0, wanted = 0
            for (i, hits) in found.enumerated() {
                wanted += truthSets[i].count
                hit += kept(hits, i).filter { truthSets[i].contains($0) }.count
            }
            points.append(Point(value: value, recall: wanted == 0 ? 1 : Double(hit) / Double(wanted), microsPerQuery: micros))
            if points.last!.recall >= Self.ceiling { break }
            if points.count >= 2, points[points.count - 1].recall - points[points.count - 2].recall < 0.0005,
               points[points.count - 1].recall >= 0.99 { break }
        }
        return RecallCurve(knob: knob, factory: index.factory, k: k, queries: nq, seed: seed,
                           generation: generation, count: count,
                           measuredAt: Date().timeIntervalSince1970, heldOut: selfIDs == nil, points: points)
    }

    /// The calibration file next to an index file (`<space>.faissidx.recall.json`).
    public static func fileURL(forIndex url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(url.lastPathComponent + ".recall.json")
    }
}

/// What a space's index file carries besides the index: the measured curve and the target recall
/// that picks the default knob value from it. A cache like the index (re-measured when missing).
public struct RecallCalibration: Codable, Sendable, Equatable {
    public var targetRecall: Double
    public var curve: RecallCurve?
    enum CodingKeys: String, CodingKey {
        case curve
        case targetRecall = "target_recall"
    }

    public static let defaultTarget = 0.95
    /// Target recalls a space or a search may ask for.
    public static let targetRange: ClosedRange<Double> = 0.01...1.0

    public init(targetRecall: Double = defaultTarget, curve: RecallCurve? = nil) {
        self.targetRecall = targetRecall
        self.curve = curve
    }

    /// The default knob choice (nil for exact indexes or before measurement).
    public var choice: RecallCurve.Choice? { curve?.choose(target: targetRecall) }

    func write(to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        // The index directory may not exist yet (an index grown by writes and not saved so far).
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(try enc.encode(self), to: url)
    }

    static func read(from url: URL) -> RecallCalibration? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(RecallCalibration.self, from: data)
    }
}
