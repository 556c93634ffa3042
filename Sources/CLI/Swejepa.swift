import ArgumentParser
import Foundation
import Server

@main
struct Swejepa: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swejepa",
        abstract: "SWE-JEPA Store: code corpora, teacher and student embeddings, nearest-function search, probes and training.",
        discussion: """
            The store is a directory (--data, default ./data) holding swejepa.sqlite, the FAISS index files \
            (caches, rebuilt from the database when missing or stale) and the teacher model under models/. A team \
            shares one PostgreSQL database instead (--db postgres://… or SWEJEPA_DB on serve, worker and migrate).

            Start the service with `swejepa serve` (or add `swejepa worker` processes on the same data directory); \
            the other commands talk to a running server (--server or SWEJEPA_SERVER, default http://127.0.0.1:8080).

            Typical session:
              swejepa serve --data ./data &
              swejepa ingest ~/src/requests --repo requests
              swejepa embed --layers 3
              swejepa train --input-space all-MiniLM-L6-v2.L3.sig_tokens --target-space all-MiniLM-L6-v2.L3.body_mean
            """,
        version: swejepaVersion,
        subcommands: [Serve.self, Worker.self, Migrate.self, Copy.self, Ingest.self, Embed.self, Train.self, SearchCommand.self, ProbeCommand.self, LayerSweepCommand.self, NeighboursCommand.self, JobsCommand.self, ReportCommand.self]
    )
}

/// Where the data lives (shared by commands that open the store directly).
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Data directory (database, index files, models).")
    var data: String = "./data"

    var url: URL { URL(fileURLWithPath: data).standardizedFileURL }
}
