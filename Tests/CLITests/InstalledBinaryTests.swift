import Core
import Foundation
import Store
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `swejepa` copied out of the checkout (as `install` or a container image would) still opens a new
/// store: the schema's SQL is compiled into the binary, not looked up next to it.
@Suite(.enabled(if: SwejepaBinary.any != nil, "needs the built swejepa executable"))
struct InstalledBinaryTests {
    @Test func aCopiedBinaryCreatesAFreshStore() async throws {
        let place = try makeTemporaryDirectory("cli-installed")
        defer { removeTemporaryDirectory(place) }
        #expect(!place.standardizedFileURL.path.hasPrefix(PackagePaths.root.standardizedFileURL.path + "/"), "outside the package")
        let bin = place.appendingPathComponent("bin/swejepa")
        try FileManager.default.createDirectory(at: bin.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: SwejepaBinary.any!, to: bin)

        // Run from the copy's folder, with no migrations folder anywhere near it.
        let data = place.appendingPathComponent("data")
        let s = try await ServerProcess(binary: bin, data: data, currentDirectory: place)
        defer { s.kill9() }
        let health = try await s.call("GET", "/healthz")
        #expect(health.status == 200, "\(s.output)")
        s.signal(SIGTERM)
        #expect(await s.waitForExit() == 0, "\(s.output)")

        // The store it made is at the newest schema: opening it here applies nothing more.
        let store = try SQLiteStore(directory: data)
        #expect(store.appliedMigrations.isEmpty)
        let newest = try Migrator.embedded(dialect: "sqlite").migrations.last?.version
        let db = try SQLiteConnection(path: store.path)
        #expect(try db.first("SELECT MAX(version) FROM schema_migrations") { Int($0.int(0)) } == newest)
    }
}
