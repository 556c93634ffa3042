import Foundation
import TestSupport
import Testing

/// `swejepa migrate` and the `--db` option every store-opening command shares.
@Suite(.enabled(if: SwejepaBinary.any != nil, "needs the built swejepa executable"))
struct MigrateCommandTests {
    let bin = SwejepaBinary.any!

    /// The migrations this checkout carries, by file name (`0001_init.sql` → "0001 init").
    func shipped(_ dialect: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: PackagePaths.root.appendingPathComponent("migrations/\(dialect)").path)
            .filter { $0.hasSuffix(".sql") }.sorted()
            .map { String($0.dropLast(4)).replacingOccurrences(of: "_", with: " ", options: [], range: $0.range(of: "_")) }
    }

    @Test func migrateAppliesEachMigrationOnceAndSaysSo() async throws {
        let dir = try makeTemporaryDirectory("migrate")
        defer { removeTemporaryDirectory(dir) }
        let names = try shipped("sqlite")
        let first = try await run(bin, ["migrate", "--db", "sqlite:" + dir.path])
        #expect(first.status == 0, "\(first)")
        for name in names { #expect(first.stdout.contains("\(name) (applied now)"), "\(name): \(first)") }
        #expect(first.stdout.contains("applied \(names.count) migration(s)"), "\(first)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("swejepa.sqlite").path))
        // The same store by --data: nothing left to apply.
        let second = try await run(bin, ["migrate", "--data", dir.path])
        #expect(second.status == 0 && second.stdout.contains("nothing to apply"), "\(second)")
        for name in names { #expect(second.stdout.contains("\(name) (was applied)"), "\(name): \(second)") }
        // SWEJEPA_DB is read when --db is absent.
        let env = try await run(bin, ["migrate", "--data", "/nonexistent/never-created"], environment: ["SWEJEPA_DB": "sqlite:" + dir.path])
        #expect(env.status == 0 && env.stdout.contains("sqlite:\(dir.path)"), "\(env)")
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent/never-created"))
    }

    @Test func aBadDatabaseValueIsAUsageErrorAndAPasswordIsNeverPrinted() async throws {
        let bad = try await run(bin, ["migrate", "--db", "mysql://root@h/db"])
        #expect(bad.status == 64 && bad.stderr.contains("--db must be postgres://"), "\(bad)")
        let pool = try await run(bin, ["worker", "--db-pool", "0"])
        #expect(pool.status == 64 && pool.stderr.contains("--db-pool"), "\(pool)")
        // Nothing listens on this port: the command fails and names the store without its password.
        let url = "postgres://alice:pa55w0rd-xyz@127.0.0.1:\(closedPort())/swejepa?connect_timeout=2"
        let down = try await run(bin, ["migrate", "--db", url])
        #expect(down.status != 0, "\(down)")
        #expect(!(down.stdout + down.stderr).contains("pa55w0rd-xyz"), "\(down)")
    }

    @Test func copyFillsAnEmptyStoreVerifiesItAndRefusesAFullOne() async throws {
        let root = try makeTemporaryDirectory("copy")
        defer { removeTemporaryDirectory(root) }
        let from = root.appendingPathComponent("a"), to = root.appendingPathComponent("b")
        try FileManager.default.createDirectory(at: from, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: PackagePaths.root.appendingPathComponent("Tests/StoreTests/Fixtures/schema_v2.sqlite"),
                                         to: from.appendingPathComponent("swejepa.sqlite"))
        let out = try await run(bin, ["copy", "--from", "sqlite:" + from.path, "--to", "sqlite:" + to.path, "--page-rows", "2"])
        #expect(out.status == 0 && out.stdout.contains("copied and verified"), "\(out)")
        #expect(out.stderr.contains("copy 100% verified"), "progress lines on a pipe: \(out)")
        for table in ["repositories", "functions", "spaces", "vectors", "jobs", "job_metrics", "job_logs", "probe_results", "neighbours"] {
            #expect(out.stdout.range(of: "\\b\(table)\\s+[1-9][0-9]* rows", options: .regularExpression) != nil, "\(table): \(out)")
        }
        let again = try await run(bin, ["copy", "--from", "sqlite:" + from.path, "--to", "sqlite:" + to.path])
        #expect(again.status == 1 && again.stderr.contains("not empty"), "\(again)")
        let same = try await run(bin, ["copy", "--from", "sqlite:" + from.path, "--to", "sqlite:" + from.path])
        #expect(same.status == 64 && same.stderr.contains("same store"), "\(same)")
        let missing = try await run(bin, ["copy", "--from", "sqlite:" + root.appendingPathComponent("none").path, "--to", "sqlite:" + to.path + "2"])
        #expect(missing.status == 64 && missing.stderr.contains("no swejepa.sqlite"), "\(missing)")
    }
}
