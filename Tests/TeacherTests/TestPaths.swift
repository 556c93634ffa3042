import Foundation

/// Paths shared by the Teacher tests.
enum TestPaths {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = testsDir.appendingPathComponent("Fixtures")
    static let repoRoot = testsDir.deletingLastPathComponent().deletingLastPathComponent()

    /// The real MiniLM folder: $SWEJEPA_MODEL_DIR or <repo>/.cache/models/all-MiniLM-L6-v2.
    static var modelDir: URL {
        if let env = ProcessInfo.processInfo.environment["SWEJEPA_MODEL_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return repoRoot.appendingPathComponent(".cache/models/all-MiniLM-L6-v2")
    }

    static func fixtureJSON(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent(name))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// A fresh temporary directory.
    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("teacher-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
