import Foundation
import PackagePlugin

/// Build-tool plugin of the `Store` target: turns `migrations/<dialect>/NNNN_name.sql` (the package's
/// top-level folder, the only place the schema is written) into `EmbeddedMigrations.swift`, the SQL as
/// string literals, so an installed `swejepa` needs no migrations folder next to it.
///
/// Each `.sql` file is an input of the command, so editing one regenerates the source (and only then).
/// The file list itself is taken when SwiftPM plans the build: after *adding* a migration in a checkout
/// that has built before, `touch Package.swift` (a fresh clone needs nothing).
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL.appending(path: "migrations")
        let fm = FileManager.default
        var inputs = [URL]()
        for dialect in (try? fm.contentsOfDirectory(atPath: root.path)) ?? [] {
            let dir = root.appending(path: dialect)
            for file in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] where file.hasSuffix(".sql") {
                inputs.append(dir.appending(path: file))
            }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [.buildCommand(
            displayName: "Embedding the SQL migrations into \(target.name)",
            executable: try context.tool(named: "EmbedFilesTool").url,
            arguments: ["migrations", root.path, output.path],
            inputFiles: inputs.sorted { $0.path < $1.path },
            outputFiles: [output])]
    }
}
