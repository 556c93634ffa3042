import Core
import Foundation
import Store

/// Store throughput per backend, side by side in one run: function ingest, vector upload and
/// whole-space read through the store API (what differs between backends; the HTTP framing in front
/// is the same), and job claim throughput with 1 and 3 concurrent claimers, each with its own store
/// instance (own connections), as separate worker processes would have.
///
///     Bench store [--functions N] [--db LOCATION]…     (default: a fresh SQLite directory)
func benchStore(_ args: [String]) async throws {
    var functions = 20_000, jobs = 3_000
    var locations: [String] = []
    var i = 0
    while i < args.count {
        switch args[i] {
        case "--functions": functions = Int(args[i + 1]) ?? functions; i += 2
        case "--jobs": jobs = Int(args[i + 1]) ?? jobs; i += 2
        case "--db": locations.append(args[i + 1]); i += 2
        default: i += 1
        }
    }
    if locations.isEmpty { locations = ["sqlite"] }
    let dim = 384
    print("| backend | ingest functions/s | upload MB/s | whole-space read MB/s | claim jobs/s, 1 worker | claim jobs/s, 3 workers |")
    print("|---|---:|---:|---:|---:|---:|")
    for spec in locations {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bench-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let location = try StoreLocation(db: spec == "sqlite" ? "sqlite:" + scratch.path : spec, dataDirectory: scratch)
        func open() throws -> any StoreBackend { try openStore(location) }
        let store = try open()
        guard try await store.stats().functions == 0 else {
            FileHandle.standardError.write(Data("\(location): not empty; give an empty database\n".utf8))
            continue
        }
        // Ingest: batches of 500 synthetic functions (~400 bytes of body each).
        let inputs = (0..<functions).map { n in
            FunctionInput(repo: "bench\(n % 10)", path: "pkg/m\(n / 100).py", qualifiedName: "f\(n)", startLine: 1, endLine: 12,
                          signature: "def f\(n)(a, b=\(n)):",
                          body: String(repeating: "    x = a + b * \(n)  # a line of body\n", count: 10))
        }
        var ids = [Int64]()
        let ingest = try await seconds {
            for start in stride(from: 0, to: inputs.count, by: 500) {
                ids += try await store.upsertFunctions(Array(inputs[start..<min(inputs.count, start + 500)])).ids
            }
        }
        // Upload: 1,000-vector batches of dim 384.
        _ = try await store.createSpace(SpaceInput(name: "bench", kind: .custom, dim: dim))
        var rng = SplitMix64(seed: 42)
        let values = (0..<(ids.count * dim)).map { _ in Float(Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1) }
        let upload = try await seconds {
            for start in stride(from: 0, to: ids.count, by: 1_000) {
                let end = min(ids.count, start + 1_000)
                try await store.upsertVectors(space: "bench", VectorBatch(ids: Array(ids[start..<end]), values: Array(values[(start * dim)..<(end * dim)])))
            }
        }
        var readBack = 0
        let read = try await seconds { readBack = try await store.vectors(space: "bench", ids: nil).ids.count }
        precondition(readBack == ids.count)
        let megabytes = Double(ids.count * dim * 4) / 1e6
        var claims = [Double]()
        for workers in [1, 3] {
            for _ in 0..<jobs { _ = try await store.createJob(type: "bench", params: .object([:]), maxAttempts: 1) }
            let claimers = try (0..<workers).map { _ in try open() }
            let t = try await seconds {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (w, s) in claimers.enumerated() {
                        group.addTask {
                            while let job = try await s.claimJob(worker: "bench-\(w)", types: ["bench"], leaseSeconds: 60) {
                                _ = try await s.finishJob(job: job.id, worker: "bench-\(w)", state: .succeeded, result: nil, error: nil)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let left = try await store.jobs(state: .queued, type: "bench", limit: 1).count
            precondition(left == 0)
            claims.append(Double(jobs) / t)
        }
        print(String(format: "| %@ | %.0f | %.1f | %.1f | %.0f | %.0f |", location.backendName,
                     Double(functions) / ingest, megabytes / upload, megabytes / read, claims[0], claims[1]))
    }
}

private func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}
