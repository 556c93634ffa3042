import Corpus
import Foundation

/// The reference script's output (scripts/reference/corpus_ast.py).
struct ReferenceOutput: Decodable {
    struct File: Decodable {
        var path: String
        var error: String?
        var functions: [Function]
    }
    struct Function: Decodable {
        var qualified_name: String
        var occurrence: Int
        var start_line: Int
        var def_line: Int
        var end_line: Int
        var start_byte: Int
        var def_byte: Int
        var signature_end_byte: Int
        var body_start_byte: Int
        var end_byte: Int
        var content_hash: String
        var body_hash: String
        var loc: Int
        var complexity: Int
        var branches: Int
        var loops: Int
        var returns: Int
        var arguments: Int
        var api_calls: Int
        var return_annotation: String
        var has_docstring: Bool
        var has_decorators: Bool
        var is_method: Bool
        var is_async: Bool
        var signature: String?
        var body: String?
    }
    var files: [File]
}

enum Paths {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let referenceScript = repo.appendingPathComponent("scripts/reference/corpus_ast.py")
}

/// Runs a process, returns stdout; throws on a non-zero exit.
@discardableResult
func run(_ executable: String, _ args: [String], cwd: URL? = nil, env: [String: String] = [:]) throws -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [executable] + args
    if let cwd { p.currentDirectoryURL = cwd }
    var e = ProcessInfo.processInfo.environment
    for (k, v) in env { e[k] = v }
    p.environment = e
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-run-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: tmp.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: tmp) }
    let out = try FileHandle(forWritingTo: tmp)
    p.standardOutput = out
    let errPipe = Pipe()
    p.standardError = errPipe
    try p.run()
    let errData = errPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    try out.close()
    guard p.terminationStatus == 0 else {
        throw CorpusError.io(path: executable, reason: "exit \(p.terminationStatus): \(String(decoding: errData, as: UTF8.self))")
    }
    return try Data(contentsOf: tmp)
}

func stdlibPath() throws -> String {
    let out = try run("python3", ["-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"])
    return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Names (and values) of the fields where `f` and the reference disagree.
func differences(_ f: PythonFunction, _ r: ReferenceOutput.Function) -> [String] {
    var d: [String] = []
    func cmp<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { d.append("\(name) \(a) vs \(b)") } }
    let p = f.properties
    cmp("qualifiedName", f.qualifiedName, r.qualified_name)
    cmp("occurrence", f.occurrence, r.occurrence)
    cmp("startLine", f.startLine, r.start_line)
    cmp("defLine", f.defLine, r.def_line)
    cmp("endLine", f.endLine, r.end_line)
    cmp("startByte", f.startByte, r.start_byte)
    cmp("defByte", f.defByte, r.def_byte)
    cmp("signatureEndByte", f.signatureEndByte, r.signature_end_byte)
    cmp("bodyStartByte", f.bodyStartByte, r.body_start_byte)
    cmp("endByte", f.endByte, r.end_byte)
    cmp("contentHash", f.contentHash, r.content_hash)
    cmp("bodyHash", f.bodyHash, r.body_hash)
    cmp("loc", p.loc, r.loc)
    cmp("complexity", p.cyclomaticComplexity, r.complexity)
    cmp("branches", p.branches, r.branches)
    cmp("loops", p.loops, r.loops)
    cmp("returns", p.returns, r.returns)
    cmp("arguments", p.arguments, r.arguments)
    cmp("apiCalls", p.apiCalls, r.api_calls)
    cmp("returnAnnotation", p.returnAnnotation.rawValue, r.return_annotation)
    cmp("hasDocstring", p.hasDocstring, r.has_docstring)
    cmp("hasDecorators", p.hasDecorators, r.has_decorators)
    cmp("isMethod", p.isMethod, r.is_method)
    cmp("isAsync", p.isAsync, r.is_async)
    if let s = r.signature { cmp("signature", f.signature, s) }
    if let b = r.body { cmp("body", f.body, b) }
    return d
}
