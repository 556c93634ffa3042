import Foundation

/// Where things the tests use live: the package, the built `swejepa`, the teacher model.
public enum PackagePaths {
    /// The package root (three levels above this file: Tests/TestSupport/PackagePaths.swift).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The real default teacher's folder: `SWEJEPA_MODEL_DIR` (set by `make test`) when set and not
    /// empty, else <package>/.cache/models/all-MiniLM-L6-v2. It may not exist: see `modelDirectory(holding:)`.
    public static var modelDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["SWEJEPA_MODEL_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return root.appendingPathComponent(".cache/models/all-MiniLM-L6-v2")
    }

    /// `modelDirectory` when it holds `file`, else nil (tests that need the model are skipped).
    public static func modelDirectory(holding file: String) -> URL? {
        let url = modelDirectory
        return FileManager.default.fileExists(atPath: url.appendingPathComponent(file).path) ? url : nil
    }
}

/// The `swejepa` executables under test: `SWEJEPA_BIN` / `SWEJEPA_RELEASE_BIN`, else the package's build folders.
public enum SwejepaBinary {
    /// Any built `swejepa` (debug first: `swift build --build-tests` builds it).
    public static var any: URL? {
        if let env = ProcessInfo.processInfo.environment["SWEJEPA_BIN"] { return URL(fileURLWithPath: env) }
        return ["debug", "release"].map { PackagePaths.root.appendingPathComponent(".build/\($0)/swejepa") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// The release build (`make test` builds it first): shutdown behaviour is checked on what ships.
    public static var release: URL? {
        if let env = ProcessInfo.processInfo.environment["SWEJEPA_RELEASE_BIN"] { return URL(fileURLWithPath: env) }
        let url = PackagePaths.root.appendingPathComponent(".build/release/swejepa")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }
}
