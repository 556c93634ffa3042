import Foundation

// Usage: Bench AREA [args…]; each area prints Markdown for docs/benchmarks.md.
let arguments = Array(CommandLine.arguments.dropFirst())
guard let area = arguments.first else {
    FileHandle.standardError.write(Data("usage: Bench sgemm|corpus|search|teacher|decoder|training|store [args…]\n".utf8))
    exit(2)
}
let rest = Array(arguments.dropFirst())
switch area {
case "sgemm": benchSgemm(rest)
case "corpus": try await benchCorpus(rest)
case "search": try await benchSearch(rest)
case "teacher": try await benchTeacher(rest)
case "decoder": try benchDecoder(rest)
case "training": try await benchTraining(rest)
case "store": try await benchStore(rest)
default:
    FileHandle.standardError.write(Data("unknown area \(area)\n".utf8))
    exit(2)
}
