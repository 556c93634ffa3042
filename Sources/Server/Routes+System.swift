import Core
import FlyingFox
import Foundation
import Store

extension APIServer {
    /// `/healthz`, `/metrics`, `/v1/stats`.
    public static func systemRoutes(_ ctx: ServiceContext) -> [Route] {
        [
            Route("GET", "/healthz") { _ in
                try await ctx.store.ping()
                return try .json(["status": "ok", "store": ctx.store.backendName, "version": ctx.version])
            },
            Route("GET", "/metrics") { _ in
                let counts = try await ctx.store.tableCounts()
                let stats = try await ctx.store.stats()
                let text = ctx.metrics.render(gauges: [
                    ("swejepa_table_rows", "Rows per table.",
                     counts.sorted { $0.key < $1.key }.map { ("table=\"\($0.key)\"", Double($0.value)) }),
                    ("swejepa_jobs", "Jobs by state.",
                     stats.jobs.sorted { $0.key < $1.key }.map { ("state=\"\($0.key)\"", Double($0.value)) }),
                    ("swejepa_database_bytes", "Size of the database files.", [("", Double(stats.databaseBytes))]),
                    ("swejepa_malloc_bytes", "glibc malloc: live (in_use, mmapped blocks included), free but kept in the arenas (free_kept), mmapped.",
                     MallocUsage.usage().map { u in
                         [("kind=\"in_use\"", Double(u.inUse)), ("kind=\"free_kept\"", Double(u.freeInArenas)), ("kind=\"mmapped\"", Double(u.mmapped))]
                     } ?? []),
                    ("swejepa_sqlite_memory_bytes", "SQLite's own allocations in this process (page caches, statements): now and the high-water mark.",
                     [("kind=\"now\"", Double(SQLiteStore.memoryUsed().now)), ("kind=\"high_water\"", Double(SQLiteStore.memoryUsed().highWater))]),
                ], counters: [
                    ("swejepa_malloc_trims_total", "Times freed memory was handed back to the system (malloc_trim).",
                     Double(MallocUsage.trimCounts().trims)),
                    ("swejepa_malloc_trimmed_bytes_total", "Anonymous resident bytes those trims released.",
                     Double(MallocUsage.trimCounts().releasedBytes)),
                ])
                return HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: Data(text.utf8))
            },
            Route("GET", "/v1/stats") { _ in
                struct Stats: Encodable {
                    var store: StoreStats
                    var backend: String
                    var version: String
                    var uptimeSeconds: Double
                    enum CodingKeys: String, CodingKey { case store, backend, version, uptimeSeconds = "uptime_seconds" }
                }
                return try .json(Stats(store: try await ctx.store.stats(), backend: ctx.store.backendName, version: ctx.version,
                                       uptimeSeconds: Date().timeIntervalSince(ctx.metrics.started)))
            },
        ]
    }
}
