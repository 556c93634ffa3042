import ArgumentParser
import Core
import Foundation
import Jobs
import Services
import Store

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run jobs from a store's job table in this process (next to, or instead of, `serve`).",
        discussion: """
            Claims jobs atomically from the same database as the server, holds a lease renewed by a heartbeat, \
            and leaves a dead worker's jobs to be re-queued once its lease runs out.

            Example:
              swejepa worker --data ./data --workers 2
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var storeOptions: StoreOptionGroup
    @Option(help: "Concurrent jobs in this process.") var workers: Int = 1
    @Option(help: "Seconds a job's lease lasts without a heartbeat.") var lease: Double = 30
    @Option(help: "Only these job types (comma-separated); default: all.") var types: String?
    @Option(name: .customLong("ingest-root"), help: "A directory whose subdirectories ingest jobs may read (repeatable; none: no ingest job runs).")
    var ingestRoots: [String] = []
    @Option(help: "Seconds between handing freed memory back to the system (malloc_trim; 0: never).") var mallocTrimSeconds: Double = 10
    @Option(help: "glibc malloc arenas at most (default: one per core, at least 2; 0: glibc's default, 8 per core).") var mallocArenas: Int?

    func run() async throws {
        MallocUsage.limitArenas(to: mallocArenas ?? max(2, ProcessInfo.processInfo.activeProcessorCount))
        let (store, location) = try storeOptions.open(data: data.url)
        let runner = JobRunner(store: store, dataDirectory: data.url, workers: workers, leaseSeconds: lease)
        let roots: IngestRoots
        do { roots = try IngestRoots(ingestRoots) } catch let e as APIError { throw ValidationError(e.message) }
        JobTypes.registerAll(on: runner, writer: VectorWriter(store: store, search: nil), ingestRoots: roots)
        if let types {
            let keep = Set(types.split(separator: ",").map(String.init))
            runner.restrict(to: keep)
        }
        runner.start()
        let trimmer = MallocTrimmer(interval: mallocTrimSeconds)
        defer { trimmer.stop() }
        Console.line("swejepa worker \(runner.name): \(workers) worker(s) on \(location), types: \(runner.types.joined(separator: ", "))")
        let stop = AsyncStream<Void> { cont in
            signal(SIGINT, SIG_IGN)
            signal(SIGTERM, SIG_IGN)
            for sig in [SIGINT, SIGTERM] {
                let s = DispatchSource.makeSignalSource(signal: sig, queue: SignalSources.queue)
                s.setEventHandler { cont.yield() }
                s.resume()
                SignalSources.keep(s)
            }
        }
        for await _ in stop { break }
        Console.line("stopping…")
        await runner.stop()
    }
}

/// Keeps dispatch signal sources alive for the life of the process.
enum SignalSources {
    /// Signals are handled on a queue of their own: the main queue is not serviced while the async
    /// `run()` of a command is suspended.
    static let queue = DispatchQueue(label: "swejepa.signals")
    nonisolated(unsafe) static var all: [any DispatchSourceSignal] = []
    static func keep(_ s: any DispatchSourceSignal) { all.append(s) }
    /// Signals received so far, counting this one (call only from handlers on `queue`).
    nonisolated(unsafe) static var received = 0
    static func count() -> Int { received += 1; return received }
}
