import ArgumentParser
import Foundation
import Store

/// `--db` and `--db-pool`: which store a process opens (shared by `serve`, `worker` and `migrate`).
///
/// ```
/// swejepa serve --data ./data                                   # SQLite in ./data (the default)
/// swejepa serve --db postgres://swejepa@db.lab:5432/swejepa     # PostgreSQL (password: PGPASSWORD or ~/.pgpass)
/// SWEJEPA_DB=postgres://… swejepa worker --data /scratch/swejepa
/// ```
struct StoreOptionGroup: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("""
        The database: postgres://user@host:port/db (PostgreSQL; password from PGPASSWORD or ~/.pgpass, never \
        printed) or sqlite:DIR. Default: $SWEJEPA_DB, else swejepa.sqlite in --data. With PostgreSQL, --data still \
        holds this process's FAISS index files and models.
        """, valueName: "url"))
    var db: String?

    @Option(name: .customLong("db-pool"), help: "PostgreSQL connections this process keeps open (1-64).")
    var dbPool: Int = 8

    func validate() throws {
        guard (1...64).contains(dbPool) else { throw ValidationError("--db-pool must be between 1 and 64") }
    }

    /// The store named by `--db`, `SWEJEPA_DB` or the data directory.
    func location(data: URL) throws -> StoreLocation {
        let value = db ?? ProcessInfo.processInfo.environment["SWEJEPA_DB"]
        do { return try StoreLocation(db: value, dataDirectory: data) } catch let e as StoreLocationError {
            throw ValidationError(e.description)
        }
    }

    /// Opens (and migrates) the store.
    func open(data: URL, durability: SQLiteStore.Durability = .normal) throws -> (any StoreBackend, StoreLocation) {
        let location = try location(data: data)
        return (try openStore(location, options: StoreOptions(durability: durability, poolSize: dbPool)), location)
    }
}
