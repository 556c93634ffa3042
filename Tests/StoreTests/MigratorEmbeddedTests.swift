import Core
import Foundation
import TestSupport
import Testing
@testable import Store

/// The SQL compiled into the binary is the package's `migrations/sqlite`, file for file: what the
/// `EmbedMigrations` plugin generated is read back against the folder itself.
@Suite struct MigratorEmbeddedTests {
    /// `(file name, SHA-256 of the text)` in version order.
    typealias Listing = [(file: String, sha256: String)]

    static func onDisk(_ folder: URL) throws -> Listing {
        try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted { Int($0.prefix { $0 != "_" })! < Int($1.prefix { $0 != "_" })! }
            .map { file in
                let data = try Data(contentsOf: folder.appendingPathComponent(file))
                return (file, SHA256.hex([UInt8](data)))
            }
    }

    /// `NNNN_name.sql`, the version zero-padded to four digits as the folder's files are.
    static func fileName(_ m: Migrator.Migration) -> String {
        let v = String(m.version)
        return String(repeating: "0", count: max(0, 4 - v.count)) + v + "_" + m.name + ".sql"
    }

    @Test func theEmbeddedMigrationsAreTheFilesOnDisk() throws {
        let disk = try Self.onDisk(sqliteMigrationsFolder)
        #expect(disk.count >= 4, "the folder is where the test thinks it is: \(sqliteMigrationsFolder.path)")
        let embedded: Listing = try Migrator.embedded(dialect: "sqlite").migrations.map {
            (Self.fileName($0), SHA256.hex(Array($0.sql.utf8)))
        }
        #expect(embedded.map(\.file) == disk.map(\.file))
        #expect(embedded.map(\.sha256) == disk.map(\.sha256))
        // The same migrations as reading the folder at run time.
        #expect(try Migrator.embedded(dialect: "sqlite").migrations == Migrator(directory: sqliteMigrationsFolder).migrations)
    }

    @Test func everyMigrationsFolderIsEmbedded() throws {
        let root = sqliteMigrationsFolder.deletingLastPathComponent()
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.path).filter {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path, isDirectory: &isDir) && isDir.boolValue
        }
        #expect(Migrator.embeddedDialects == folders.sorted())
    }

    @Test func anUnknownDialectIsAClearError() {
        #expect(throws: SQLiteError.self) { try Migrator.embedded(dialect: "oracle") }
    }
}
