import Corpus
import Foundation
import Testing
import TestSupport

/// The Python standard library on this machine (minus test directories and site-packages) against `ast`.
@Suite(.ownThreads) struct StdlibTests {
    static let excluded: Set<String> = ["test", "tests", "idle_test", "site-packages", "__pycache__"]

    @Test func stdlibMatchesAst() throws {
        let root = try stdlibPath()
        var args = [Paths.referenceScript.path, root, "--no-text"]
        for d in StdlibTests.excluded.sorted() { args += ["--exclude-dir", d] }
        let reference = try JSONDecoder().decode(ReferenceOutput.self, from: try run("python3", args))

        var options = CorpusScanner.Options()
        options.skipDirectoryNames = StdlibTests.excluded
        options.useGitIgnore = false
        options.skipEggInfoAndVirtualenvs = false
        let scan = try CorpusScanner.scan(root: URL(fileURLWithPath: root), options: options)

        var mine: [String: PythonFunction] = [:]
        for f in scan.functions { mine[f.path + "::" + f.key] = f }
        var total = 0, sameSpan = 0, sameLOC = 0, sameCC = 0, allProps = 0
        var mismatches: [String] = []
        for file in reference.files where file.error == nil {
            for r in file.functions {
                total += 1
                let key = file.path + "::" + (r.occurrence == 0 ? r.qualified_name : "\(r.qualified_name)#\(r.occurrence + 1)")
                guard let f = mine[key] else {
                    if mismatches.count < 30 { mismatches.append("missing \(key) line \(r.def_line)") }
                    continue
                }
                guard f.startLine == r.start_line, f.defLine == r.def_line, f.endLine == r.end_line else {
                    if mismatches.count < 30 { mismatches.append("span \(key): \(f.startLine)-\(f.defLine)-\(f.endLine) vs \(r.start_line)-\(r.def_line)-\(r.end_line)") }
                    continue
                }
                sameSpan += 1
                if f.properties.loc == r.loc { sameLOC += 1 } else if mismatches.count < 30 {
                    mismatches.append("loc \(key):\(r.def_line): \(f.properties.loc) vs \(r.loc)")
                }
                if f.properties.cyclomaticComplexity == r.complexity { sameCC += 1 } else if mismatches.count < 30 {
                    mismatches.append("cc \(key):\(r.def_line): \(f.properties.cyclomaticComplexity) vs \(r.complexity)")
                }
                let diffs = differences(f, r)
                if diffs.isEmpty { allProps += 1 } else if mismatches.count < 30 {
                    mismatches.append("\(key):\(r.def_line): " + diffs.joined(separator: ", "))
                }
            }
        }
        let refFailures = reference.files.filter { $0.error != nil }.map(\.path)
        let pct = { (n: Int) in String(format: "%.3f%%", 100 * Double(n) / Double(max(total, 1))) }
        print("stdlib \(root): \(reference.files.count) files, ast functions \(total), extracted \(scan.functions.count)")
        print("  same name+span: \(sameSpan) (\(pct(sameSpan))); LOC agree: \(sameLOC) (\(pct(sameLOC))); complexity agree: \(sameCC) (\(pct(sameCC))); every property, offset and hash agree: \(allProps) (\(pct(allProps)))")
        print("  files ast rejects: \(refFailures); files we reject: \(scan.failures.map { "\($0.path): \($0.reason)" })")
        for m in mismatches { print("  " + m) }
        #expect(total > 10_000)
        // Every function agrees with `ast` (measured: 16,539 of 16,539 on Python 3.11.7, as the
        // README states); a single disagreement is a bug, and the mismatch lines above name it.
        #expect(sameSpan == total, "name+span: \(total - sameSpan) of \(total) differ")
        #expect(sameLOC == total, "LOC: \(total - sameLOC) of \(total) differ")
        #expect(sameCC == total, "complexity: \(total - sameCC) of \(total) differ")
        #expect(allProps == total, "other properties, offsets or hashes: \(total - allProps) of \(total) differ")
        #expect(scan.functions.count == total, "extracted \(scan.functions.count), ast \(total)")
        // Every file ast parses, we parse too.
        let ours = Set(scan.failures.map(\.path))
        #expect(ours.isSubset(of: Set(refFailures)), "we reject files ast parses: \(ours.subtracting(refFailures))")
    }
}
