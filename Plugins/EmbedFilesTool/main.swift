import Foundation

// EmbedFilesTool KIND ROOT OUTPUT.swift — the one tool of the build-tool plugins that compile files
// into the binary as exact string literals:
//   migrations: `EmbeddedMigrations.sources` from ROOT/<dialect>/NNNN_name.sql (EmbedMigrations, Store)
//   dashboard:  `EmbeddedDashboard.files` from every file under ROOT (EmbedDashboard, Server)
// OUTPUT is rewritten only when its text changes, so the target is not recompiled for nothing.

let args = CommandLine.arguments
guard args.count == 4, ["migrations", "dashboard"].contains(args[1]) else {
    FileHandle.standardError.write(Data("usage: EmbedFilesTool migrations|dashboard ROOT OUTPUT.swift\n".utf8))
    exit(2)
}
let root = URL(fileURLWithPath: args[2]).standardizedFileURL, output = URL(fileURLWithPath: args[3])
let swift = args[1] == "migrations" ? migrationsSource(root: root) : dashboardSource(root: root)
if FileManager.default.contents(atPath: output.path) != Data(swift.utf8) {
    do { try Data(swift.utf8).write(to: output, options: .atomic) } catch { fail("cannot write \(output.path): \(error)") }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}

/// A Swift string literal holding exactly `text` (no multi-line literal, whose line ends and
/// indentation Swift would normalise).
func literal(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// The UTF-8 text of a file, or the tool fails naming it.
func text(of url: URL, shown: String) -> String {
    guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
        fail("\(shown) is not UTF-8 text")
    }
    return text
}
