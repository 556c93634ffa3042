import Core
import Foundation
import Search

// `Bench search [--n 100000] [--dim 384] [--queries 1000] [--vectors FILE.npy]
//               [--factories "Flat HNSW32 IVF1024,Flat"] [--ef "64 128 256"] [--write-vectors FILE.npy] [--json FILE.json]`
//
// In-process FAISS numbers for docs/benchmarks.md: build time, resident memory, queries/s for
// batches of 1 and 64 (called directly, and through IndexCatalog's executor with 4 concurrent
// callers, the path the HTTP routes use), and recall@10 of each index against Flat.
// --vectors uses real embeddings (float32 2-D .npy; the last `--queries` rows are the queries).
// --write-vectors dumps the data set so an HTTP client can replay it: FILE.npy (base, ids are row
// numbers), FILE.queries.npy, FILE.gt.npy (int64 Flat top-10 ids per query). --json writes the
// figures as JSON for the HTTP comparison.

private struct SearchBenchRow: Codable {
    var factory: String
    var efSearch: Int?
    var buildSeconds: Double
    /// CPU seconds of the build, all threads (less sensitive to a shared machine than wall time).
    var buildCPUSeconds: Double
    /// CPU microseconds per query of the batch-64 direct run (one OpenMP thread).
    var searchCPUMicroseconds: Double
    /// HNSW distance computations per added vector (build) and per query (search): work counts.
    var buildDistancesPerVector: Double
    var searchDistancesPerQuery: Double
    /// q/s of the batch-64 direct run with FAISS's own HNSW search instead of the shim's (same results).
    var qpsBatch64FAISSSearch: Double?
    var rssMiB: Double
    var qpsBatch1: Double
    var qpsBatch64: Double
    var qpsBatch1Concurrent4: Double
    var qpsBatch64Concurrent4: Double
    var recallAt10: Double
}

private struct SearchBenchReport: Codable {
    var n: Int
    var dim: Int
    var queries: Int
    var data: String
    var rows: [SearchBenchRow]
    var peakRSSMiB: Double
}


private func searchBenchNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// CPU seconds this process has used (all threads).
private func searchBenchCPU() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Embedding-like synthetic vectors: 50 overlapping Gaussian clusters in a random 64-d subspace
/// of `dim`, plus small noise (uniform random vectors make ANN recall meaningless).
private func searchBenchClustered(_ n: Int, dim: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    func next() -> UInt64 { rng.next() }
    func gauss() -> Float {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), 1e-300), u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
    let intrinsic = 64, clusters = 50
    let basis = (0..<(intrinsic * dim)).map { _ in gauss() / Float(intrinsic).squareRoot() }
    let centres = (0..<(clusters * intrinsic)).map { _ in gauss() * 2 }
    var out = [Float](repeating: 0, count: n * dim)
    var z = [Float](repeating: 0, count: intrinsic)
    basis.withUnsafeBufferPointer { b in
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<n {
                let c = Int(next() % UInt64(clusters))
                for a in 0..<intrinsic { z[a] = centres[c * intrinsic + a] + gauss() }
                let row = o.baseAddress! + i * dim
                for j in 0..<dim { row[j] = 0.05 * gauss() }
                for a in 0..<intrinsic {
                    let za = z[a], br = b.baseAddress! + a * dim
                    for j in 0..<dim { row[j] += za * br[j] }
                }
            }
        }
    }
    return out
}

/// Queries/s of `batch`-sized searches over `queries`, called directly on this thread (best of 3).
private func searchBenchDirect(_ index: VectorIndex, _ queries: [Float], dim: Int, batch: Int, limit: Int,
                               params: SearchParams) throws -> Double {
    let nq = min(limit, queries.count / dim) / batch * batch
    let t = try bestTime {
        for start in stride(from: 0, to: nq, by: batch) {
            _ = try index.search(queries: Array(queries[(start * dim)..<((start + batch) * dim)]), k: 10, params: params)
        }
    }
    return Double(nq) / t
}

/// Queries/s with `callers` concurrent tasks searching through an IndexCatalog (executor threads).
private func searchBenchCatalog(_ catalog: IndexCatalog, _ queries: [Float], dim: Int, batch: Int, limit: Int,
                                callers: Int, params: SearchParams) async throws -> Double {
    let nq = min(limit, queries.count / dim) / batch * batch
    var best = Double.infinity
    for _ in 0..<3 {
        let t0 = searchBenchNow()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<callers {
                group.addTask {
                    for start in stride(from: c * batch, to: nq, by: batch * callers) {
                        _ = try await catalog.search(space: "bench", queries: Array(queries[(start * dim)..<((start + batch) * dim)]),
                                                     k: 10, params: params)
                    }
                }
            }
            try await group.waitForAll()
        }
        best = min(best, searchBenchNow() - t0)
    }
    return Double(nq) / best
}

func benchSearch(_ args: [String]) async throws {
    func option(_ name: String) -> String? {
        guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
        return args[i + 1]
    }
    var n = Int(option("--n") ?? "") ?? 100_000
    var dim = Int(option("--dim") ?? "") ?? 384
    let nq = Int(option("--queries") ?? "") ?? 1_000
    let factories = try (option("--factories") ?? "Flat HNSW32").split(whereSeparator: { $0 == " " || $0 == ";" })
        .map { try IndexFactory(String($0)) }
    let efValues = (option("--ef") ?? "64 128 256").split(separator: " ").compactMap { Int($0) }
    // --work-only: recall and distance counts, no timed query loops (for grids on a busy machine).
    let timed = !args.contains("--work-only")
    guard factories.first == .flat else { throw SearchError.invalidParameter("--factories must start with Flat (the recall reference)") }

    var base: [Float]
    var queries: [Float]
    let dataLabel: String
    let t0 = searchBenchNow()
    if let path = option("--vectors") {
        let array = try NPYArray(data: try Data(contentsOf: URL(fileURLWithPath: path)))
        guard array.shape.count == 2 else { throw SearchError.invalidParameter("\(path) must be a 2-D array") }
        let all = try array.floats()
        dim = array.shape[1]
        n = array.shape[0] - nq
        base = Array(all[0..<(n * dim)])
        queries = Array(all[(n * dim)...])
        dataLabel = "real embeddings from \(URL(fileURLWithPath: path).lastPathComponent) (last \(nq) rows are the queries)"
    } else {
        let all = searchBenchClustered(n + nq, dim: dim, seed: 2024)
        base = Array(all[0..<(n * dim)])
        queries = Array(all[(n * dim)...])
        dataLabel = "synthetic clustered vectors (50 Gaussian clusters in a random 64-d subspace + noise)"
    }
    let genSeconds = searchBenchNow() - t0
    let ids = (0..<Int64(n)).map { $0 }

    var rows: [SearchBenchRow] = []
    var truth: [[Hit]] = []
    let catalog = IndexCatalog(directory: FileManager.default.temporaryDirectory.appendingPathComponent("bench-search-\(getpid())"))
    for factory in factories {
        let before = BenchProcess.memory().rss
        let tb = searchBenchNow(), cb = searchBenchCPU(), db = VectorIndex.hnswDistanceCount
        let index = try VectorIndex(factory: factory, metric: .cosine, dim: dim)
        if index.needsTraining {
            try index.train(Array(base[0..<(min(n, factory.trainingSampleSize) * dim)]))
        }
        for start in stride(from: 0, to: n, by: 10_000) {
            let end = min(n, start + 10_000)
            try index.add(ids: Array(ids[start..<end]), vectors: Array(base[(start * dim)..<(end * dim)]))
        }
        let build = searchBenchNow() - tb, buildCPU = searchBenchCPU() - cb
        let buildDistances = Double(VectorIndex.hnswDistanceCount - db) / Double(n)
        let rss = BenchProcess.memory().rss - before
        let exact = factory == .flat
        catalog.install(space: "bench", index: index, generation: 0)
        let knobs: [Int?] = index.defaultEfSearch == nil ? [nil] : efValues
        for ef in knobs {
            let params = SearchParams(efSearch: ef)
            let limit1 = exact ? 200 : nq
            let q1 = timed ? try searchBenchDirect(index, queries, dim: dim, batch: 1, limit: limit1, params: params) : 0
            let c0 = searchBenchCPU()
            let q64 = timed ? try searchBenchDirect(index, queries, dim: dim, batch: 64, limit: nq, params: params) : 0
            let searchCPU = (searchBenchCPU() - c0) / Double(nq) * 1e6
            var q64faiss: Double?
            if timed, ef != nil {  // the same run with FAISS's own HNSW search, right after
                VectorIndex.useOwnHNSWSearch(false)
                q64faiss = try searchBenchDirect(index, queries, dim: dim, batch: 64, limit: nq, params: params)
                VectorIndex.useOwnHNSWSearch(true)
            }
            let c1 = timed ? try await searchBenchCatalog(catalog, queries, dim: dim, batch: 1, limit: limit1, callers: 4, params: params) : 0
            let c64 = timed ? try await searchBenchCatalog(catalog, queries, dim: dim, batch: 64, limit: nq, callers: 4, params: params) : 0
            let ds = VectorIndex.hnswDistanceCount
            let results = try index.search(queries: queries, k: 10, params: params)
            let searchDistances = Double(VectorIndex.hnswDistanceCount - ds) / Double(nq)
            if exact { truth = results }
            var hit = 0
            for (a, e) in zip(results, truth) { hit += Set(a.map(\.id)).intersection(e.map(\.id)).count }
            rows.append(SearchBenchRow(factory: factory.string, efSearch: ef, buildSeconds: build, buildCPUSeconds: buildCPU,
                                       searchCPUMicroseconds: searchCPU, buildDistancesPerVector: buildDistances,
                                       searchDistancesPerQuery: searchDistances, qpsBatch64FAISSSearch: q64faiss, rssMiB: rss,
                                       qpsBatch1: q1, qpsBatch64: q64, qpsBatch1Concurrent4: c1, qpsBatch64Concurrent4: c64,
                                       recallAt10: Double(hit) / Double(truth.count * 10)))
        }
        catalog.drop(space: "bench", deleteFile: true)
    }
    let peak = BenchProcess.memory().hwm

    if let path = option("--write-vectors") {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().path
        try NPYArray(floats: base, shape: [n, dim]).encoded().write(to: url)
        try NPYArray(floats: queries, shape: [queries.count / dim, dim]).encoded().write(to: URL(fileURLWithPath: stem + ".queries.npy"))
        let gt = truth.flatMap { row in (0..<10).map { $0 < row.count ? row[$0].id : -1 } }
        try NPYArray(int64s: gt, shape: [truth.count, 10]).encoded().write(to: URL(fileURLWithPath: stem + ".gt.npy"))
    }
    if let path = option("--json") {
        let report = SearchBenchReport(n: n, dim: dim, queries: queries.count / dim, data: dataLabel, rows: rows, peakRSSMiB: peak)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: path))
    }

    func f(_ x: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", x) }
    print("### FAISS in-process (\(n) × \(dim) float32, cosine, k = 10)")
    print()
    print("Data: \(dataLabel); \(queries.count / dim) queries held out (generated in \(f(genSeconds, 1)) s). FAISS \(VectorIndex.faissVersion), \(ProcessInfo.processInfo.activeProcessorCount) cores.")
    print("\"direct\": one caller on the calling thread; \"catalog ×4\": 4 concurrent callers through `IndexCatalog` (executor threads, the path the HTTP routes use). OpenMP: 1 thread per search (see `SearchExecutor`).")
    print()
    print("| index | efSearch | build (s) | build CPU (s) | build distances per vector | RSS added (MiB) | q/s batch 1 direct | q/s batch 64 direct | same, FAISS's HNSW search | CPU µs/query, batch 64 | distances per query | q/s batch 1 catalog ×4 | q/s batch 64 catalog ×4 | recall@10 vs Flat |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows {
        print("| \(r.factory) | \(r.efSearch.map(String.init) ?? "–") | \(f(r.buildSeconds, 1)) | \(f(r.buildCPUSeconds, 1)) | \(f(r.buildDistancesPerVector)) | \(f(r.rssMiB)) | \(f(r.qpsBatch1)) | \(f(r.qpsBatch64)) | \(r.qpsBatch64FAISSSearch.map { f($0) } ?? "–") | \(f(r.searchCPUMicroseconds)) | \(f(r.searchDistancesPerQuery)) | \(f(r.qpsBatch1Concurrent4)) | \(f(r.qpsBatch64Concurrent4)) | \(f(r.recallAt10, 4)) |")
    }
    print()
    print("Peak resident memory (VmHWM) of the whole run: \(f(peak)) MiB.")
}
