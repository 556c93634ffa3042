import ArgumentParser
import Foundation
import Store

/// `swejepa copy`: a whole store into an empty one, across backends, verified.
struct Copy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a whole store (functions, spaces, vectors, jobs, analysis results) into an empty one.",
        discussion: """
            Migrates both stores to this build's schema, reads --from table by table in pages and writes --to (ids, generations and stored JSON kept as they \
            are), then reads both again and compares every table's row count and checksum; any difference is \
            an error (exit 1). The target must be empty (a new data directory or a new database). Stop the \
            servers and workers writing to --from first: rows written during the copy make the check fail. \
            FAISS index files are not copied (they are caches: the target's server rebuilds them).

            Stores are sqlite:DIR or postgres://user@host:port/db (password from PGPASSWORD or ~/.pgpass).

            Example:
              swejepa copy --from sqlite:./data --to postgres://swejepa@127.0.0.1:5432/swejepa
              swejepa copy --from postgres://swejepa@db.lab/swejepa --to sqlite:./snapshot
            """)

    @Option(help: ArgumentHelp("The store to read (sqlite:DIR or postgres://…).", valueName: "store")) var from: String
    @Option(help: ArgumentHelp("The empty store to fill (sqlite:DIR or postgres://…; created and migrated if needed).", valueName: "store")) var to: String
    @Option(help: "Rows per page (1-100000).") var pageRows: Int = 1_000

    func validate() throws {
        guard (1...100_000).contains(pageRows) else { throw ValidationError("--page-rows must be between 1 and 100000") }
        for (flag, value) in [("--from", from), ("--to", to)] where !(value.hasPrefix("sqlite:") || value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")) {
            throw ValidationError("\(flag) must be sqlite:DIR or postgres://user@host:port/db")
        }
    }

    func run() async throws {
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let (fromLocation, toLocation) = try (location(from, here), location(to, here))
        guard fromLocation != toLocation else { throw ValidationError("--from and --to name the same store") }
        if case .sqlite(let dir) = fromLocation, !FileManager.default.fileExists(atPath: dir.appendingPathComponent("swejepa.sqlite").path) {
            throw ValidationError("--from \(fromLocation): no swejepa.sqlite there")
        }
        let source = try openStore(fromLocation), target = try openStore(toLocation)
        guard let reader = source as? any StoreTransfer else { throw StoreTransferError.notTransferable(backend: source.backendName) }
        guard let writer = target as? any StoreTransfer else { throw StoreTransferError.notTransferable(backend: target.backendName) }
        let counts = try await source.tableCounts()
        let total = max(1, TransferTable.all.reduce(0) { $0 + (counts[$1.name] ?? 0) })
        Console.line("copying \(fromLocation) → \(toLocation): \(total) rows in \(TransferTable.all.count) tables")
        let display = ProgressDisplay(label: "copy")
        let done = DoneRows(counts: counts)
        let report: StoreCopy.Report
        do {
            report = try await StoreCopy(from: reader, to: writer, pageRows: pageRows).run { table, copied in
                let sofar = done.update(table: table, copied: copied)
                display.update(fraction: Double(sofar) / Double(total), message: "\(table) \(copied)")
            }
        } catch {
            display.finish()
            throw error
        }
        display.update(fraction: 1, message: "verified")
        display.finish()
        for t in report.tables {
            Console.line("  " + t.name.padding(toLength: 17, withPad: " ", startingAt: 0) + String(format: "%9d rows  ", t.rows) + t.checksum)
        }
        Console.line("copied and verified: every table has the same rows and checksum in both stores")
    }

    func location(_ value: String, _ here: URL) throws -> StoreLocation {
        do { return try StoreLocation(db: value, dataDirectory: here) } catch let e as StoreLocationError {
            throw ValidationError(e.description)
        }
    }
}

/// Rows copied so far over all tables, from the source's row counts.
private struct DoneRows {
    let order = TransferTable.all.map(\.name)
    let counts: [String: Int]
    init(counts: [String: Int]) { self.counts = counts }
    func update(table: String, copied: Int) -> Int {
        let before = order.prefix { $0 != table }.reduce(0) { $0 + (counts[$1] ?? 0) }
        return before + copied
    }
}
