import Foundation
import Store

/// A store backend the store-level suites run on. `Backend.all` is what `@Test(arguments:)` takes:
/// SQLite always; PostgreSQL when `SWEJEPA_TEST_PG` names a server (`make test` starts a throwaway
/// cluster with scripts/pg-test-cluster.sh and sets it). Without it the PostgreSQL variants are
/// skipped, and a line on stderr says so.
///
/// ```swift
/// @Test(arguments: Backend.all) func roundTrip(_ backend: Backend) async throws {
///     let fresh = try TestStore(backend)
///     defer { fresh.remove() }
///     _ = try await fresh.store.upsertFunctions([input])
/// }
/// ```
public enum Backend: String, Sendable, CustomStringConvertible, CaseIterable {
    case sqlite, postgres

    /// The PostgreSQL server tests may use (`SWEJEPA_TEST_PG`), nil when unset or empty.
    public static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["SWEJEPA_TEST_PG"], !url.isEmpty else { return nil }
        return url
    }

    /// Every backend available to this test run.
    public static var all: [Backend] {
        if postgresURL != nil { return [.sqlite, .postgres] }
        skipNotice
        return [.sqlite]
    }

    /// PostgreSQL alone (empty, with the notice, when `SWEJEPA_TEST_PG` is unset).
    public static var postgresOnly: [Backend] {
        if postgresURL != nil { return [.postgres] }
        skipNotice
        return []
    }

    private static let skipNotice: Void = {
        FileHandle.standardError.write(Data(
            "note: PostgreSQL test variants skipped: SWEJEPA_TEST_PG is not set (make test starts a cluster and sets it)\n".utf8))
    }()

    public var description: String { rawValue }
}

/// A fresh, empty, isolated store of one backend: SQLite in a temporary directory, or PostgreSQL in
/// a schema of its own (`CREATE SCHEMA`, reached through `options=-csearch_path=…` in the URL; its
/// connections carry the schema's name as `application_name`). `remove()` deletes the directory or
/// drops the schema.
public final class TestStore: Sendable {
    public let backend: Backend
    /// Where the store lives (open more stores on the same data with `open()`).
    public let location: StoreLocation
    public let store: any StoreBackend
    /// PostgreSQL: the schema (also the connections' `application_name`); SQLite: nil.
    public let schema: String?
    let directory: URL?

    public init(_ backend: Backend, poolSize: Int = 4) throws {
        self.backend = backend
        switch backend {
        case .sqlite:
            let dir = try makeTemporaryDirectory("store")
            directory = dir
            schema = nil
            location = .sqlite(directory: dir)
        case .postgres:
            guard let base = Backend.postgresURL else { throw StoreLocationError("SWEJEPA_TEST_PG is not set") }
            let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
            try PostgresConnection(url: base).execute("CREATE SCHEMA \(name)")
            directory = nil
            schema = name
            location = .postgres(url: Self.url(base, schema: name))
        }
        store = try openStore(location, options: StoreOptions(poolSize: poolSize))
    }

    /// `base` with the search path set to `schema` and `application_name` = `schema`.
    static func url(_ base: String, schema: String) -> String {
        base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)&application_name=\(schema)"
    }

    /// Another store over the same data (a second process would open it so).
    public func open(poolSize: Int = 4) throws -> any StoreBackend {
        try openStore(location, options: StoreOptions(poolSize: poolSize))
    }

    /// An administrative connection to the same PostgreSQL database, outside the store's pool
    /// (its `application_name` differs, so terminating the store's connections spares it).
    public func adminConnection() throws -> PostgresConnection {
        guard let base = Backend.postgresURL, let schema else { throw StoreLocationError("not a PostgreSQL test store") }
        return try PostgresConnection(url: base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)")
    }

    /// Deletes the temporary directory or drops the schema (with everything in it).
    public func remove() {
        if let directory { removeTemporaryDirectory(directory) }
        if let schema, let base = Backend.postgresURL {
            try? PostgresConnection(url: base).execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
        }
    }
}
