import Foundation
import Store
import Testing

/// `--db` / `SWEJEPA_DB` parsing and the redaction of passwords in everything printed.
@Suite struct StoreLocationTests {
    let data = URL(fileURLWithPath: "/srv/data")

    @Test func emptyOrMissingMeansSQLiteInTheDataDirectory() throws {
        #expect(try StoreLocation(db: nil, dataDirectory: data) == .sqlite(directory: data))
        #expect(try StoreLocation(db: "", dataDirectory: data) == .sqlite(directory: data))
        #expect(try StoreLocation(db: "sqlite:/tmp/x", dataDirectory: data) == .sqlite(directory: URL(fileURLWithPath: "/tmp/x")))
    }

    @Test func postgresURLsInBothSpellings() throws {
        for url in ["postgres://u@h:5432/db", "postgresql://h/db?sslmode=disable"] {
            let loc = try StoreLocation(db: url, dataDirectory: data)
            #expect(loc == .postgres(url: url))
            #expect(loc.backendName == "postgres")
        }
    }

    @Test(arguments: ["mysql://h/db", "sqlite:", "./data", "host=h dbname=d"])
    func otherFormsAreRefused(value: String) {
        #expect(throws: StoreLocationError.self) { try StoreLocation(db: value, dataDirectory: data) }
    }

    @Test func passwordsNeverAppearInTheDescription() throws {
        let cases: [(String, String)] = [
            ("postgres://alice:s3cr%40t@db.lab:5432/swejepa", "postgres://alice:***@db.lab:5432/swejepa"),
            ("postgres://alice@db.lab/swejepa?password=hunter2&sslmode=require", "postgres://alice@db.lab/swejepa?password=***&sslmode=require"),
            ("postgresql://bob:pw@h/d?PASSWORD=x", "postgresql://bob:***@h/d?password=***"),
            ("postgres://h/d", "postgres://h/d"),
        ]
        for (url, shown) in cases {
            let text = try StoreLocation(db: url, dataDirectory: data).description
            #expect(text == shown)
            #expect(!text.contains("s3cr") && !text.contains("hunter2") && !text.contains(":pw@"))
        }
    }
}
