import Core
import Foundation
import Testing
@testable import Store

/// The migrator's guarantees (GRDB's): table rebuilds never cascade, a migration that leaves dangling
/// foreign keys is rolled back, and a database written by a newer build is refused untouched.
@Suite struct MigratorSafetyTests {
    /// A connection configured as `SQLiteStore` configures its writer (foreign keys on).
    func connection() throws -> (SQLiteConnection, String) {
        let path = tempDir().appendingPathComponent("m.sqlite").path
        let db = try SQLiteConnection(path: path)
        try db.execute("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;")
        return (db, path)
    }

    static let parentAndChild = Migrator.Migration(version: 1, name: "init", sql: """
        CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE);
        """)
    /// The standard SQLite table rebuild (create, copy, drop, rename) of a table other rows cascade from.
    static let rebuildParent = Migrator.Migration(version: 2, name: "rebuild_parent", sql: """
        CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');
        INSERT INTO parent_new(id, name) SELECT id, name FROM parent;
        DROP TABLE parent;
        ALTER TABLE parent_new RENAME TO parent;
        """)

    @Test func aTableRebuildDoesNotCascade() throws {
        let (db, _) = try connection()
        #expect(try Migrator(migrations: [Self.parentAndChild]).migrate(db) == [1])
        try db.execute("INSERT INTO parent(id, name) VALUES (1, 'a'), (2, 'b'); INSERT INTO child(id, parent_id) VALUES (10, 1), (11, 1), (12, 2);")
        #expect(try Migrator(migrations: [Self.parentAndChild, Self.rebuildParent]).migrate(db) == [2])
        // With foreign keys on during the rebuild, DROP TABLE parent would have deleted every child.
        #expect(try db.all("SELECT id, parent_id FROM child ORDER BY id") { "\($0.int(0)):\($0.int(1))" } == ["10:1", "11:1", "12:2"])
        #expect(try db.all("SELECT id, name, note FROM parent ORDER BY id") { "\($0.int(0)) \($0.text(1)) '\($0.text(2))'" } == ["1 a ''", "2 b ''"])
        // The connection's own setting is back on afterwards, and the cascade works again.
        #expect(try db.first("PRAGMA foreign_keys") { $0.int(0) } == 1)
        try db.execute("DELETE FROM parent WHERE id = 1")
        #expect(try db.all("SELECT id FROM child ORDER BY id") { $0.int(0) } == [12])
    }

    @Test func aMigrationThatLeavesDanglingReferencesIsRolledBack() throws {
        let (db, _) = try connection()
        try Migrator(migrations: [Self.parentAndChild]).migrate(db)
        try db.execute("INSERT INTO parent(id, name) VALUES (1, 'a'); INSERT INTO child(id, parent_id) VALUES (10, 1);")
        let dropsParents = Migrator.Migration(version: 2, name: "bad", sql: """
            CREATE TABLE extra (x INTEGER);
            DELETE FROM parent;
            """)
        #expect {
            try Migrator(migrations: [Self.parentAndChild, dropsParents]).migrate(db)
        } throws: { error in
            guard case let .foreignKeyViolation(version, name, rows)? = error as? MigrationError else { return false }
            return version == 2 && name == "bad" && rows.count == 1 && rows[0].hasPrefix("child rowid 10")
        }
        #expect(try db.all("SELECT version FROM schema_migrations") { $0.int(0) } == [1])
        #expect(try db.all("SELECT COUNT(*) FROM parent") { $0.int(0) } == [1])
        #expect(try db.first("SELECT COUNT(*) FROM sqlite_master WHERE name = 'extra'") { $0.int(0) } == 0)
    }

    @Test func aDatabaseFromANewerBuildIsRefusedUntouched() throws {
        let dir = tempDir()
        _ = try SQLiteStore(directory: dir)
        let path = dir.appendingPathComponent("swejepa.sqlite").path
        let db = try SQLiteConnection(path: path)
        let newest = try db.first("SELECT MAX(version) FROM schema_migrations") { Int($0.int(0)) } ?? 0
        try db.run("INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, 'from_the_future', 0)", [.int(Int64(newest + 1))])
        let before = try db.all("SELECT type, name, sql FROM sqlite_master ORDER BY name") { "\($0.text(0)) \($0.text(1)) \($0.text(2))" }
        #expect {
            _ = try SQLiteStore(directory: dir)
        } throws: { error in
            (error as? MigrationError) == .newerDatabase(version: newest + 1, newestKnown: newest)
                && "\(error)".contains("newer swejepa")
        }
        #expect(try db.all("SELECT type, name, sql FROM sqlite_master ORDER BY name") { "\($0.text(0)) \($0.text(1)) \($0.text(2))" } == before)
    }
}
