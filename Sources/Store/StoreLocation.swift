import Foundation

/// Where a store lives: an SQLite file in a data directory (the embedded default) or a PostgreSQL
/// database named by a URL (`postgres://user@host:port/db`, the form libpq accepts).
///
/// ```swift
/// let location = try StoreLocation(db: ProcessInfo.processInfo.environment["SWEJEPA_DB"], dataDirectory: dir)
/// let store = try openStore(location, options: StoreOptions(poolSize: 8))
/// print(location)          // passwords are never printed
/// ```
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    /// `DIR/swejepa.sqlite`.
    case sqlite(directory: URL)
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
    case postgres(url: String)

    /// Reads `--db` / `SWEJEPA_DB`: nil or empty → SQLite in `dataDirectory`; `sqlite:PATH` → SQLite in
    /// that directory; `postgres://…` or `postgresql://…` → PostgreSQL. Anything else is refused.
    public init(db: String?, dataDirectory: URL) throws {
        guard let db, !db.isEmpty else { self = .sqlite(directory: dataDirectory); return }
        if db.hasPrefix("postgres://") || db.hasPrefix("postgresql://") {
            self = .postgres(url: db)
        } else if db.hasPrefix("sqlite:") {
            let path = String(db.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw StoreLocationError("--db sqlite: needs a directory (sqlite:./data)") }
            self = .sqlite(directory: URL(fileURLWithPath: path))
        } else {
            throw StoreLocationError("--db must be postgres://user@host:port/db or sqlite:DIR (got a value of another form)")
        }
    }

    /// The backend's name as `/v1/stats` and `/healthz` report it.
    public var backendName: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// For logs and messages: the SQLite path, or the URL with any password replaced by `***`.
    public var description: String {
        switch self {
        case .sqlite(let dir): "sqlite:\(dir.path)"
        case .postgres(let url): Self.redacted(url)
        }
    }

    /// `postgres://user:secret@host/db?password=x` → `postgres://user:***@host/db?password=***`.
    static func redacted(_ url: String) -> String {
        var out = url
        if let scheme = out.range(of: "://") {
            let rest = out[scheme.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@"),
               let colon = rest[..<at].firstIndex(of: ":") {
                out.replaceSubrange(rest.index(after: colon)..<at, with: "***")
            }
        }
        if let q = out.firstIndex(of: "?") {
            let query = out[out.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
                part.lowercased().hasPrefix("password=") ? "password=***" : String(part)
            }
            out = String(out[...q]) + query.joined(separator: "&")
        }
        return out
    }
}

/// A `--db` value that names no store.
public struct StoreLocationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How a store is opened (each backend reads what applies to it).
public struct StoreOptions: Sendable {
    /// SQLite: how hard a commit is pushed to the disk.
    public var durability: SQLiteStore.Durability
    /// PostgreSQL: connections kept open (`--db-pool`).
    public var poolSize: Int
    public init(durability: SQLiteStore.Durability = .normal, poolSize: Int = 8) {
        self.durability = durability
        self.poolSize = poolSize
    }
}

/// Opens (creating and migrating if needed) the store at `location`.
public func openStore(_ location: StoreLocation, options: StoreOptions = StoreOptions()) throws -> any StoreBackend {
    switch location {
    case .sqlite(let dir):
        return try SQLiteStore(directory: dir, durability: options.durability)
    case .postgres(let url):
        return try PostgresStore(url: url, poolSize: options.poolSize)
    }
}
