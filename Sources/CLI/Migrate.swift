import ArgumentParser
import Foundation
import Store

/// `swejepa migrate`: applies pending schema migrations and prints where the store stands.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending schema migrations to a store and print its status.",
        discussion: """
            `serve` and `worker` migrate on start too; run this to migrate ahead of a deployment or to see \
            which migrations a database has. Several processes migrating one PostgreSQL database at once \
            apply each migration once (an advisory lock serialises them). A database written by a newer \
            swejepa is refused.

            Example:
              swejepa migrate --data ./data
              swejepa migrate --db postgres://swejepa@127.0.0.1:5432/swejepa
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var storeOptions: StoreOptionGroup

    func run() async throws {
        let (store, location) = try storeOptions.open(data: data.url)
        let stats = try await store.stats()
        Console.line("store: \(location) (\(store.backendName))")
        let known = try Migrator.embedded(dialect: store.backendName).migrations
        let applied = Set(store.appliedMigrations)
        for m in known {
            Console.line(String(format: "  %04d %@ %@", m.version, m.name, applied.contains(m.version) ? "(applied now)" : "(was applied)"))
        }
        Console.line("schema at version \(known.last?.version ?? 0): \(applied.isEmpty ? "nothing to apply" : "applied \(applied.count) migration(s)")")
        Console.line("functions: \(stats.functions), spaces: \(stats.spaces), vectors: \(stats.vectors), jobs: \(stats.jobs.values.reduce(0, +))")
    }
}
