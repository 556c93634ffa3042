import Core
import Corpus
import Foundation
import Testing

/// Third-party code (a committed sample of PyPI packages; by hand, any directory) against CPython's `ast`,
/// through scripts/reference/corpus_thirdparty.py's fixture format.
@Suite(.ownThreads) struct ThirdPartyTests {
    static let sampleRoot = Paths.fixtures.appendingPathComponent("thirdparty")
    static let sampleReference = Paths.fixtures.appendingPathComponent("thirdparty_reference.json")

    /// Every file of the sample: same bytes as when the reference was made, same verdict as `ast`
    /// (a file `ast` rejects may be accepted: Python 3.12 syntax), same functions, spans, properties and hashes.
    @Test func sampleMatchesAst() throws {
        let reference = try JSONDecoder().decode(ThirdPartyReference.self, from: Data(contentsOf: Self.sampleReference))
        for file in reference.files {
            let data = try Data(contentsOf: Self.sampleRoot.appendingPathComponent(file.path))
            #expect(SHA256.hex([UInt8](data)) == file.sha256, "\(file.path) differs from the file the reference was made on")
        }
        let report = try ThirdPartyComparison(reference: reference, scan: Self.scan(Self.sampleRoot))
        print(report.summary(label: "third-party sample"))
        #expect(reference.files.count > 50)
        #expect(report.functions > 500)
        #expect(report.mismatches.isEmpty, "\(report.mismatches.count) files differ from ast")
        #expect(report.weRejectAstAccepts.isEmpty, "we reject files ast parses: \(report.weRejectAstAccepts)")
    }

    /// By hand: `SWEJEPA_CORPUS_ROOT=DIR` compares every .py under DIR (e.g. a whole site-packages)
    /// and prints the files skipped by category, with `ast`'s verdict on each. The reference is made by
    /// the script unless `SWEJEPA_CORPUS_REFERENCE` names one made before (`corpus_thirdparty.py reference DIR`).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SWEJEPA_CORPUS_ROOT"] != nil))
    func directoryMatchesAst() throws {
        let env = ProcessInfo.processInfo.environment
        let root = env["SWEJEPA_CORPUS_ROOT"]!
        let script = Paths.repo.appendingPathComponent("scripts/reference/corpus_thirdparty.py").path
        let json = try env["SWEJEPA_CORPUS_REFERENCE"].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
            ?? run("python3", [script, "reference", root])
        let reference = try JSONDecoder().decode(ThirdPartyReference.self, from: json)
        let report = try ThirdPartyComparison(reference: reference, scan: Self.scan(URL(fileURLWithPath: root)))
        print(report.summary(label: root))
        #expect(report.mismatches.isEmpty)
        #expect(report.weRejectAstAccepts.isEmpty)
    }

    /// Every .py under `root` (no skipped directory names but `__pycache__`, no .gitignore), as the script walks.
    static func scan(_ root: URL) throws -> CorpusScan {
        var options = CorpusScanner.Options()
        options.skipDirectoryNames = ["__pycache__"]
        options.useGitIgnore = false
        options.skipEggInfoAndVirtualenvs = false
        return try CorpusScanner.scan(root: root, options: options)
    }
}

/// scripts/reference/corpus_thirdparty.py's `reference` output.
struct ThirdPartyReference: Decodable {
    struct File: Decodable {
        var path: String
        var sha256: String
        var error: String?
        /// One line per function: name, occurrence, spans, offsets, metrics, return annotation, flags
        /// (nil in a verdicts-only reference).
        var functions: [String]?
        /// SHA-256 over "content_hash body_hash\n" per function.
        var hashes: String?
    }
    var python: String
    var files: [File]
}

/// How an extraction agrees with a `ThirdPartyReference`, file by file.
struct ThirdPartyComparison {
    var files = 0, functions = 0, agreeingFiles = 0
    /// Files whose functions, properties or hashes differ (first differing line of each).
    var mismatches: [String] = []
    /// Files we skip although `ast` parses them (each a bug), as "path: our reason".
    var weRejectAstAccepts: [String] = []
    /// Files both reject: our reason, `ast`'s reason.
    var bothReject: [(path: String, ours: String, ast: String)] = []
    /// Files `ast` (of the reference's Python) rejects and we extract.
    var astRejectsWeAccept: [(path: String, ast: String)] = []

    init(reference: ThirdPartyReference, scan: CorpusScan) {
        var mine: [String: [PythonFunction]] = [:]
        for f in scan.functions { mine[f.path, default: []].append(f) }
        let ours = Dictionary(scan.failures.map { ($0.path, $0.reason) }, uniquingKeysWith: { a, _ in a })
        for file in reference.files {
            files += 1
            switch (file.error, ours[file.path]) {
            case let (astError?, ourError?): bothReject.append((file.path, ourError, astError)); continue
            case let (astError?, nil): astRejectsWeAccept.append((file.path, astError)); continue
            case let (nil, ourError?): weRejectAstAccepts.append("\(file.path): \(ourError)"); continue
            case (nil, nil): break
            }
            guard let expected = file.functions else { agreeingFiles += 1; continue }   // verdicts only
            functions += expected.count
            let fns = mine[file.path] ?? []
            let lines = fns.map(Self.line)
            if lines != expected {
                let k = zip(lines, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(lines.count, expected.count)
                let a = k < lines.count ? lines[k] : "(none)", b = k < expected.count ? expected[k] : "(none)"
                mismatches.append("\(file.path): function \(k): ours \(a) | ast \(b)")
                continue
            }
            let digest = SHA256.hex(Array(fns.map { "\($0.contentHash) \($0.bodyHash)\n" }.joined().utf8))
            if digest != file.hashes { mismatches.append("\(file.path): content or body hashes differ"); continue }
            agreeingFiles += 1
        }
    }

    /// The reference script's line for one function.
    static func line(_ f: PythonFunction) -> String {
        let p = f.properties
        let flags = [p.hasDocstring, p.hasDecorators, p.isMethod, p.isAsync].map { $0 ? "1" : "0" }.joined()
        let fields: [Any] = [f.qualifiedName, f.occurrence, f.startLine, f.defLine, f.endLine, f.startByte, f.defByte,
                             f.signatureEndByte, f.bodyStartByte, f.endByte, p.loc, p.cyclomaticComplexity, p.branches,
                             p.loops, p.returns, p.arguments, p.apiCalls, p.returnAnnotation.rawValue, flags]
        return fields.map { "\($0)" }.joined(separator: " ")
    }

    /// Counts, then the skipped files grouped by reason (digits and quoted names folded) with `ast`'s verdict.
    func summary(label: String) -> String {
        var out = ["\(label): \(files) files, \(functions) functions in files ast parses; \(agreeingFiles) files agree exactly",
                   "  skipped by us: \(bothReject.count + weRejectAstAccepts.count) (ast rejects too: \(bothReject.count), ast parses: \(weRejectAstAccepts.count)); ast rejects, we extract: \(astRejectsWeAccept.count)"]
        func category(_ s: String) -> String {
            var t = s.replacingOccurrences(of: #"^[^:]*: "#, with: "", options: .regularExpression)
            t = t.replacingOccurrences(of: #"'[^']*'|"[^"]*"|\d+"#, with: "_", options: .regularExpression)
            return String(t.prefix(90))
        }
        var groups: [String: [String]] = [:]
        for b in bothReject {
            let ours = category(b.ours.replacingOccurrences(of: b.path + ":", with: ""))
            groups["both reject | ours: \(ours) | ast: \(category(b.ast))", default: []].append(b.path)
        }
        for w in weRejectAstAccepts {
            let path = String(w.prefix { $0 != ":" })
            groups["ONLY WE reject | \(category(String(w.dropFirst(path.count + 2)).replacingOccurrences(of: path + ":", with: "")))", default: []].append(path)
        }
        for a in astRejectsWeAccept { groups["only ast rejects | ast: \(category(a.ast))", default: []].append(a.path) }
        for (key, paths) in groups.sorted(by: { $0.value.count > $1.value.count }) {
            out.append("  \(paths.count) × \(key)  e.g. \(paths.prefix(2).joined(separator: ", "))")
        }
        for m in mismatches.prefix(30) { out.append("  MISMATCH " + m) }
        return out.joined(separator: "\n")
    }
}
