import Corpus
import Foundation
import Testing
import TestSupport

/// Randomly mutated copies of the hard-case fixture: the extractor must never crash (it returns or throws
/// a typed error), and on every mutant that `ast` still parses it must agree with `ast` exactly.
@Suite(.ownThreads) struct MutationTests {
    @Test func mutantsNeverCrashAndAgreeWithAstWhenValid() throws {
        let seedFile = Paths.fixtures.appendingPathComponent("python/hard_cases.py")
        let original = Array(try Data(contentsOf: seedFile))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-mutants-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { if ProcessInfo.processInfo.environment["CORPUS_KEEP_MUTANTS"] == nil { try? FileManager.default.removeItem(at: dir) } }
        var state: UInt64 = 0x2545F4914F6CDD1D
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(n, 1)))
        }
        let alphabet = Array("()[]{}:;,'\"\\\n\r\t #@=.-*fdefasyncclasslambda if else for in and or".utf8)
        // Line-level edits keep many mutants valid Python; byte-level edits produce broken ones.
        let lines = original.split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
        let count = 600
        for m in 0..<count {
            var bytes: [UInt8]
            if m % 2 == 0 {
                var ls = lines
                for _ in 0..<(1 + next(3)) {
                    let i = next(ls.count)
                    switch next(4) {
                    case 0: ls.remove(at: i)
                    case 1: ls.insert(ls[next(ls.count)], at: i)
                    case 2: ls.swapAt(i, next(ls.count))
                    default: ls[i] = Array("    ".utf8) + ls[i]
                    }
                }
                bytes = Array(ls.joined(separator: [10]))
            } else {
                bytes = original
                for _ in 0..<(1 + next(4)) {
                    let i = next(bytes.count)
                    switch next(3) {
                    case 0: bytes.removeSubrange(i..<min(bytes.count, i + 1 + next(8)))
                    case 1: bytes.insert(alphabet[next(alphabet.count)], at: i)
                    default: bytes[i] = alphabet[next(alphabet.count)]
                    }
                }
            }
            try Data(bytes).write(to: dir.appendingPathComponent(String(format: "m%04d.py", m)))
        }
        let reference = try JSONDecoder().decode(ReferenceOutput.self,
                                                 from: try run("python3", [Paths.referenceScript.path, dir.path, "--no-text"]))
        var options = CorpusScanner.Options()
        options.useGitIgnore = false
        let scan = try CorpusScanner.scan(root: dir, options: options)   // a crash here fails the whole run
        var mine: [String: [PythonFunction]] = [:]
        for f in scan.functions { mine[f.path, default: []].append(f) }
        let failed = Set(scan.failures.map(\.path))
        var valid = 0, agree = 0
        for file in reference.files where file.error == nil {
            valid += 1
            let ours = mine[file.path] ?? []
            let same = !failed.contains(file.path) && ours.count == file.functions.count
                && zip(ours, file.functions).allSatisfy { differences($0, $1).isEmpty }
            if same { agree += 1 } else {
                let d = zip(ours, file.functions).map { differences($0, $1) }.first { !$0.isEmpty } ?? []
                Issue.record("\(file.path): ours \(ours.count) fns (failed: \(failed.contains(file.path))) vs ast \(file.functions.count); \(d)")
            }
        }
        print("mutants: \(count), ast parses \(valid), identical extraction on \(agree); ast rejects \(count - valid), we reject \(failed.count)")
        #expect(valid >= 80)
        #expect(scan.files.count + scan.failures.count == count)
    }
}
