import Foundation
import PackagePlugin

/// Build-tool plugin of the `Server` target: turns every file under the package's top-level
/// `dashboard/` folder (HTML, CSS, JavaScript modules, SVG) into `EmbeddedDashboard.swift`, the files
/// as string literals keyed by their path inside the folder, so a copied `swejepa` serves the page
/// with no folder next to it.
///
/// ```
/// dashboard/index.html     → EmbeddedDashboard.files["index.html"]
/// dashboard/js/api.js      → EmbeddedDashboard.files["js/api.js"]
/// ```
///
/// SwiftPM runs the plugin at every build, which lists the folder again: each file is an input of the
/// command, so adding, editing or removing one regenerates the source (and only then).
@main
struct EmbedDashboard: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL.appending(path: "dashboard")
        var inputs = [URL]()
        if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                inputs.append(url)
            }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedDashboard.swift")
        return [.buildCommand(
            displayName: "Embedding the dashboard assets into \(target.name)",
            executable: try context.tool(named: "EmbedFilesTool").url,
            arguments: ["dashboard", root.path, output.path],
            inputFiles: inputs.sorted { $0.path < $1.path },
            outputFiles: [output])]
    }
}
