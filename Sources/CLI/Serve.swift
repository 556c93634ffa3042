import ArgumentParser
import Core
import Foundation
import Jobs
import Server
import Services
import Store
#if canImport(Glibc)
import Glibc
#endif

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP service (REST/JSON and .npy under /v1, /healthz, /metrics, the dashboard at /).",
        discussion: """
            Binds 127.0.0.1 unless told otherwise. With a token (--token-file, SWEJEPA_TOKEN or --token), every \
            write (POST, PUT, PATCH, DELETE) needs 'Authorization: Bearer <token>'; with --auth reads, every \
            request but /healthz does. POST /v1/repos ingests only directories under an --ingest-root. Runs --workers job workers in-process. FAISS indexes are \
            loaded (or rebuilt from the store when stale) in the background at start. Prints the bound \
            address ("listening on http://HOST:PORT", useful with --port 0). Stops gracefully on SIGINT or \
            SIGTERM: new requests get 503, requests and running jobs get --shutdown-grace seconds, running \
            jobs are handed back (queued again, resumed on the next start), changed indexes are saved; \
            then it exits 0. A second signal exits at once (code 130).

            Example:
              swejepa serve --data ./data --port 8080
              SWEJEPA_TOKEN=… swejepa serve --data ./data --auth reads --ingest-root /srv/corpora
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var storeOptions: StoreOptionGroup
    @Option(help: "Address to bind (use 0.0.0.0 to listen on every interface).") var host: String = "127.0.0.1"
    @Option(help: "TCP port (0 picks a free one and prints it).") var port: UInt16 = 8080
    @Option(help: "Bearer token (visible to every user in `ps`: prefer --token-file or SWEJEPA_TOKEN).") var token: String?
    @Option(help: "File whose first line is the bearer token (keep it mode 0600).") var tokenFile: String?
    @Option(help: "What needs the token: writes (POST/PUT/PATCH/DELETE) or reads (every route but /healthz).") var auth: String = "writes"
    @Option(name: .customLong("ingest-root"), help: "A directory whose subdirectories POST /v1/repos may ingest (repeatable; none: no server path).")
    var ingestRoots: [String] = []
    @Option(name: .customLong("max-body-mb"), help: "Largest request body in MiB (413 past it).") var maxBodyMB: Int = 256
    @Option(help: "Seconds a connection may take to send its next request head before it is closed (bodies: at least 1 KiB per this many seconds).") var readTimeout: Double = 30
    @Option(help: "Connections served at once; past it new ones get 503 (default: the open-file limit, raised to its hard maximum at start, less a reserve).") var maxConnections: Int?
    @Option(help: "Log level: error, warning, info (one line per request), debug.") var logLevel: String = "warning"
    @Option(help: "Job workers inside the server (0: only queue jobs, for separate `swejepa worker` processes).") var workers: Int = 1
    @Option(help: "Seconds requests and running jobs get to finish when stopping.") var shutdownGrace: Double = 10
    @Option(help: """
        Commit durability: normal (default; survives a crash of the process, a power loss can drop the last \
        commits) or full (every commit fsynced before it is acknowledged; slower writes).
        """) var durability: SQLiteStore.Durability = .normal
    @Option(help: "Seconds between handing freed memory back to the system (malloc_trim; 0: never).") var mallocTrimSeconds: Double = 10
    @Option(help: "glibc malloc arenas at most (default: one per core, at least 2; 0: glibc's default, 8 per core).") var mallocArenas: Int?

    func run() async throws {
        guard let level = LogLevel(name: logLevel) else {
            throw ValidationError("--log-level must be one of error, warning, info, debug")
        }
        var config = ServerConfig()
        config.host = host
        config.port = port
        config.token = try TokenSource.resolve(flag: token, file: tokenFile)
        guard let scope = AuthScope(rawValue: auth) else { throw ValidationError("--auth must be writes or reads") }
        if scope == .reads && config.token == nil {
            throw ValidationError("--auth reads needs a token (--token-file, SWEJEPA_TOKEN or --token)")
        }
        config.auth = scope
        let roots: IngestRoots
        do { roots = try IngestRoots(ingestRoots) } catch let e as APIError { throw ValidationError(e.message) }
        config.maxBodyBytes = maxBodyMB << 20
        config.readTimeout = readTimeout
        MallocUsage.limitArenas(to: mallocArenas ?? max(2, ProcessInfo.processInfo.activeProcessorCount))
        FileDescriptorLimit.raiseToHard()
        config.maxConnections = maxConnections ?? 0
        config.logLevel = level
        let (store, location) = try storeOptions.open(data: data.url, durability: durability)
        let logger = QuietLogger(level: level)
        let search = SearchService(store: store, dataDirectory: data.url) { logger.info($0) }
        let runner = JobRunner(store: store, dataDirectory: data.url, workers: workers)
        JobTypes.registerAll(on: runner, writer: VectorWriter(store: store, search: search), ingestRoots: roots)
        let context = ServiceContext(store: store, config: config, dataDirectory: data.url, jobs: runner, search: search)
        let server = try APIServer(context: context)
        server.add(routes: APIServer.allRoutes(context))

        runner.start()
        let trimmer = MallocTrimmer(interval: mallocTrimSeconds)
        defer { trimmer.stop() }
        // What ends the service: a signal, or the HTTP server ending on its own (an error).
        let (events, event) = AsyncStream<StopReason>.makeStream()
        let task = Task {
            do { try await server.run(); event.yield(.serverEnded(nil)) } catch { event.yield(.serverEnded(error)) }
        }
        // Handlers before the address is printed: whoever reads it may signal at once.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        for sig in [SIGINT, SIGTERM] {
            let s = DispatchSource.makeSignalSource(signal: sig, queue: SignalSources.queue)
            s.setEventHandler {
                if SignalSources.count() > 1 { Console.error("second signal: exiting without waiting"); Glibc.exit(130) }
                event.yield(.signal(sig))
            }
            s.resume()
            SignalSources.keep(s)  // alive for the process (a local would be released early in release builds)
        }
        let warm = Task { await search.warmUp() }  // load or rebuild indexes in the background; searches wait for theirs
        try await server.waitUntilListening()
        let bound = await server.port() ?? port
        Console.line("swejepa \(swejepaVersion) listening on http://\(host):\(bound) (data: \(data.url.path), store: \(location))")

        var reasons = events.makeAsyncIterator()
        let reason = await reasons.next() ?? .signal(SIGTERM)
        Console.line("stopping…")
        // Requests and jobs stop side by side within the grace period; indexes are saved after both,
        // so they include every acknowledged write and every vector a job stored.
        let grace = shutdownGrace
        async let requestsDone: Void = server.stop(timeout: grace)
        async let jobsDone: Void = runner.stop(grace: grace)
        _ = await (requestsDone, jobsDone)
        warm.cancel()
        _ = await waitForAll([warm], upTo: grace)
        await search.stop()
        // FlyingFox's run ends (a cancellation or a closed-socket error: both mean "stopped") once its
        // connections end; one stuck past the grace period does not hold the exit.
        _ = await waitForAll([task], upTo: 1)
        if case .serverEnded(let error) = reason {  // the listener never ends on its own: always a failure
            Console.error("the HTTP server ended: \(error.map { "\($0)" } ?? "without an error")")
            throw ExitCode.failure
        }
        Console.line("stopped")
    }
}

/// Why `serve` stops.
enum StopReason: Sendable {
    case signal(Int32)
    case serverEnded((any Error)?)
}

extension SQLiteStore.Durability: ExpressibleByArgument {}
