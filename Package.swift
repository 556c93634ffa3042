// swift-tools-version:6.0
// SWE-JEPA Store: one target per module, one test target per source target.
//
// Layers, bottom to top. A module imports only modules of lower layers (never one of its own layer or
// above), and declares exactly the modules its files import (`grep -h "^import" Sources/X/*.swift`):
//   0. native shims      CSQLite, CLibPQ, CBLAS, CFaiss, CMalloc (glibc malloc statistics, for Core)
//   1. vocabulary        Core (CMalloc only), Tensor (Core, CBLAS)
//   2. storage, search   Store (Core, CSQLite, CLibPQ), Search (Core, CFaiss)
//      pure compute      Corpus (Core), Teacher, Analysis, Training (Core, Tensor)
//   3. application       Services (Store, Search, Corpus, Teacher, Training: search with filters and by text, the vector
//                        writer, text embedding, predictions, neighbour lists, models, Compute)
//   4. jobs              Jobs (Services, Store, compute)
//   5. front ends        Server (Services, Jobs, FlyingFox), CLI (Server, Jobs, ArgumentParser), Bench (compute, Store, Search)
// Build tooling, outside the layers: the EmbedMigrations plugin (Store's SQL) and the EmbedDashboard plugin
// (Server's dashboard/ assets), both running EmbedFilesTool.
// Tests: TestSupport (Core, Store) sits beside the layers; each test target imports its module and lower ones.
import PackageDescription

let blasLinks: [LinkerSetting] = [.linkedLibrary("openblas")]
/// Numeric modules are optimised in debug builds too: unoptimised Swift math is 10–100× slower,
/// which would make `make test` (debug) crawl through real-model and stdlib-sized tests.
let optimised: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "swejepa",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "swejepa", targets: ["CLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swhitty/FlyingFox.git", exact: "0.27.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // Tests only: ServerTests parse openapi/openapi.yaml to validate real responses against it.
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
    ],
    targets: [
        // Native shims: one per library.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .target(
            name: "CFaiss",
            path: "Sources/CFaiss",
            cxxSettings: [.headerSearchPath("compat"), .unsafeFlags(["-std=c++17", "-O2"])],
            linkerSettings: [
                .linkedLibrary("faiss"), .linkedLibrary("openblas"),
                .linkedLibrary("gomp"), .linkedLibrary("stdc++"),
            ]
        ),

        // Shared value types and codecs (npy, errors, space names).
        .target(name: "Core", dependencies: ["CMalloc"], path: "Sources/Core", swiftSettings: optimised),
        // BLAS/LAPACK views over flat Float buffers.
        .target(name: "Tensor", dependencies: ["Core", "CBLAS"], path: "Sources/Tensor", swiftSettings: optimised, linkerSettings: blasLinks),

        // Build tooling: migrations/<dialect>/*.sql compiled into Store, dashboard/** into Server, as string literals.
        .executableTarget(name: "EmbedFilesTool", path: "Plugins/EmbedFilesTool"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["EmbedFilesTool"],
                path: "Plugins/EmbedMigrations"),
        .plugin(name: "EmbedDashboard", capability: .buildTool(), dependencies: ["EmbedFilesTool"],
                path: "Plugins/EmbedDashboard"),

        // Storage (the source of truth) and search (rebuildable caches).
        .target(name: "Store", dependencies: ["Core", "CSQLite", "CLibPQ"], path: "Sources/Store",
                linkerSettings: [.linkedLibrary("sqlite3"), .linkedLibrary("pq")], plugins: ["EmbedMigrations"]),
        .target(name: "Search", dependencies: ["Core", "CFaiss"], path: "Sources/Search"),

        // Pure compute modules: arrays and texts in, arrays and numbers out.
        .target(name: "Corpus", dependencies: ["Core"], path: "Sources/Corpus", swiftSettings: optimised),
        .target(name: "Teacher", dependencies: ["Core", "Tensor"], path: "Sources/Teacher", swiftSettings: optimised),
        .target(name: "Analysis", dependencies: ["Core", "Tensor"], path: "Sources/Analysis", swiftSettings: optimised),
        .target(name: "Training", dependencies: ["Core", "Tensor"], path: "Sources/Training", swiftSettings: optimised),

        // The application layer: use-cases the server and jobs share (search with filters, one vector
        // writer that keeps indexes current, text embedding, student predictions, loaded models).
        .target(name: "Services", dependencies: ["Core", "Store", "Search", "Corpus", "Teacher", "Training"], path: "Sources/Services"),

        // Wiring: job runner, HTTP server, command line.
        .target(name: "Jobs", dependencies: ["Core", "Store", "Services", "Corpus", "Teacher", "Analysis", "Training"],
                path: "Sources/Jobs"),
        .target(name: "Server", dependencies: [
            "Core", "Store", "Search", "Services", "Jobs",
            .product(name: "FlyingFox", package: "FlyingFox"),
            .product(name: "FlyingSocks", package: "FlyingFox"),
        ], path: "Sources/Server", plugins: ["EmbedDashboard"]),
        .executableTarget(name: "CLI", dependencies: [
            "Core", "Store", "Services", "Jobs", "Server",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/CLI"),

        // `make bench`: one executable, one file per area (Bench+Area.swift).
        .executableTarget(name: "Bench", dependencies: [
            "Core", "Tensor", "Store", "Search", "Corpus", "Teacher", "Training",
        ], path: "Sources/Bench"),

        // Helpers two or more test targets share (temporary folders, polling, scratch git, the built binary,
        // a fresh store per backend: SQLite or PostgreSQL via SWEJEPA_TEST_PG, …).
        .target(name: "TestSupport", dependencies: ["Core", "Store"], path: "Tests/TestSupport"),
        .testTarget(name: "CoreTests", dependencies: ["Core", "TestSupport"], path: "Tests/CoreTests", exclude: ["Fixtures"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"], path: "Tests/TensorTests", exclude: ["Fixtures"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Core", "TestSupport"], path: "Tests/StoreTests", exclude: ["Fixtures"]),
        .testTarget(name: "SearchTests", dependencies: ["Search", "Core", "TestSupport"], path: "Tests/SearchTests", exclude: ["Fixtures"]),
        .testTarget(name: "CorpusTests", dependencies: ["Corpus", "Core", "TestSupport"], path: "Tests/CorpusTests", exclude: ["Fixtures"]),
        .testTarget(name: "TeacherTests", dependencies: ["Teacher", "Core", "TestSupport"], path: "Tests/TeacherTests", exclude: ["Fixtures"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Core", "TestSupport"], path: "Tests/AnalysisTests", exclude: ["Fixtures"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Tensor", "Core", "TestSupport"], path: "Tests/TrainingTests", exclude: ["Fixtures"]),
        .testTarget(name: "ServicesTests", dependencies: ["Services", "Store", "Search", "Core", "TestSupport"], path: "Tests/ServicesTests"),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", "Services", "Store", "Core", "Teacher", "Analysis", "Training", "TestSupport"], path: "Tests/JobsTests"),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Store", "Core", "Services", "Jobs", "Teacher", "TestSupport",
            .product(name: "Yams", package: "Yams"),
        ], path: "Tests/ServerTests", exclude: ["Fixtures"]),
        // Process-level: the built `swejepa` (debug, and release for shutdown) run as child processes.
        .testTarget(name: "CLITests", dependencies: ["Core", "Store", "Search", "TestSupport"], path: "Tests/CLITests"),
    ]
)
