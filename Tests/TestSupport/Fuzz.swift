import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A seeded random-mutation fuzzer for the parsers we own (npy, npz, vector bodies, safetensors
/// headers, Python source). Each iteration takes a seed input, applies 1–4 mutations (bit flips,
/// byte inserts/deletes, boundary integers spliced in binary or as text, truncation, duplication,
/// dictionary tokens, crossover) and hands the result to the parser. The property checked is the
/// one every parser owes the server: it never traps — it parses or throws its module's error.
///
/// ```swift
/// let run = Fuzz.run(target: "npy", seeds: seeds, iterations: Fuzz.iterations(default: 4_000)) { bytes in
///     _ = try NPYArray(data: Data(bytes))
/// } accepts: { $0 is NPYError }
/// #expect(run.unexpected.isEmpty)
/// ```
/// `FUZZ_ITERATIONS=1000000 swift test --filter Fuzz` runs longer; `FUZZ_SEED=n` (or `random`) picks
/// another sequence. A trap cannot be caught, so before each input runs it is parked where a signal
/// handler can write it out: a crash leaves `<tmp>/swejepa-fuzz-<target>-crash.bin` behind (the path
/// is printed), to be committed under the target's `Fixtures/fuzz/` as a regression seed.
public enum Fuzz {
    /// What one run saw.
    public struct Run: Sendable {
        public var iterations = 0
        public var parsed = 0
        public var rejected = 0
        /// Errors of a type the target does not accept, with the input that raised them (first 10).
        public var unexpected: [(error: String, input: [UInt8])] = []
    }

    /// `FUZZ_ITERATIONS` from the environment, else `value`.
    public static func iterations(default value: Int) -> Int {
        ProcessInfo.processInfo.environment["FUZZ_ITERATIONS"].flatMap { Int($0) } ?? value
    }

    /// `FUZZ_SEED` (a number, or `random`), else a fixed seed so `make test` is repeatable.
    public static var seed: UInt64 {
        switch ProcessInfo.processInfo.environment["FUZZ_SEED"] {
        case "random"?: return UInt64.random(in: 0...UInt64.max)
        case let s?: return UInt64(s) ?? 0x5EED
        case nil: return 0x5EED
        }
    }

    /// The files of a fixtures folder, as seeds (name → bytes), sorted by name.
    public static func seeds(in directory: URL) throws -> [(name: String, bytes: [UInt8])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { ($0, [UInt8](try Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    /// Runs every seed as is, then `iterations` mutated inputs, through `body`.
    public static func run(target: String, seeds: [[UInt8]], dictionary: [[UInt8]] = [], iterations: Int,
                           seed: UInt64 = Fuzz.seed, _ body: ([UInt8]) throws -> Void,
                           accepts: (any Error) -> Bool) -> Run {
        precondition(!seeds.isEmpty, "a fuzz target needs at least one seed")
        CrashCapture.install(target: target)
        print("fuzz \(target): FUZZ_SEED=\(seed), \(iterations) mutated inputs after \(seeds.count) seeds")
        var mutator = FuzzMutator(seed: seed, dictionary: dictionary)
        var run = Run()
        func attempt(_ input: [UInt8]) {
            CrashCapture.park(input)
            run.iterations += 1
            do { try body(input); run.parsed += 1 } catch {
                if accepts(error) { run.rejected += 1 } else if run.unexpected.count < 10 {
                    run.unexpected.append(("\(type(of: error)): \(error)", input))
                }
            }
        }
        for s in seeds { attempt(s) }
        for _ in 0..<iterations {
            var input = seeds[mutator.below(seeds.count)]
            for _ in 0...mutator.below(4) {
                input = mutator.mutate(input, other: seeds[mutator.below(seeds.count)])
            }
            attempt(input)
        }
        CrashCapture.park([])
        return run
    }
}

/// The mutations (seeded SplitMix64, so a seed names one sequence of inputs).
public struct FuzzMutator {
    /// The seeded stream every mutation draws from (Core's SplitMix64, so a printed seed replays anywhere).
    var rng: SplitMix64
    let dictionary: [[UInt8]]

    /// Integers at the edges parsers get wrong: around 0, 2⁸, 2¹⁶, 2³¹, 2³², 2⁶², 2⁶³, 2⁶⁴.
    static let boundaries: [UInt64] = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x1_0000, 0x7FFF_FFFF,
                                       0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF, 0x1_0000_0000, 1 << 61, 1 << 62,
                                       0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, UInt64.max - 15, UInt64.max]
    static let textNumbers = ["0", "1", "-1", "4611686018427387904", "2305843009213693952", "9223372036854775807",
                              "9223372036854775808", "-9223372036854775808", "18446744073709551615",
                              "99999999999999999999999", "1e309", "-0", "65536", "4294967296", "3.5", "1e5"]

    public init(seed: UInt64, dictionary: [[UInt8]] = []) {
        rng = SplitMix64(seed: seed)
        self.dictionary = dictionary
    }

    public mutating func next() -> UInt64 { rng.next() }

    /// A uniform number in `0..<n` (0 when `n` is 0).
    public mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    /// One mutation of `input` (`other`: another seed, for crossover).
    public mutating func mutate(_ input: [UInt8], other: [UInt8]) -> [UInt8] {
        var b = input
        let n = b.count
        switch below(11) {
        case 0 where n > 0:  // flip a bit
            b[below(n)] ^= UInt8(1 << below(8))
        case 1 where n > 0:  // set a byte
            b[below(n)] = UInt8(truncatingIfNeeded: next())
        case 2:  // insert random bytes
            let bytes = (0...below(8)).map { _ in UInt8(truncatingIfNeeded: next()) }
            b.insert(contentsOf: bytes, at: below(n + 1))
        case 3 where n > 0:  // delete a range
            let at = below(n)
            b.removeSubrange(at..<min(n, at + 1 + below(16)))
        case 4 where n > 0:  // a boundary integer, little-endian, 2/4/8 bytes wide, over existing bytes
            let value = Self.boundaries[below(Self.boundaries.count)]
            let width = [2, 4, 8][below(3)]
            let at = below(n)
            for i in 0..<width where at + i < n { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        case 5:  // a boundary number as text, replacing a run of digits (shapes, offsets, counts in headers)
            let text = Array(Self.textNumbers[below(Self.textNumbers.count)].utf8)
            // The first run of digits at or after a random point (scanning at most 4 KiB, then from the start).
            func isDigit(_ i: Int) -> Bool { b[i] >= 48 && b[i] <= 57 }
            let from = below(n)
            let found = (from..<min(n, from + 4096)).first(where: isDigit) ?? (0..<min(n, 4096)).first(where: isDigit)
            if var start = found {
                while start > 0, isDigit(start - 1) { start -= 1 }
                var end = start
                while end < n, b[end] >= 48, b[end] <= 57 { end += 1 }
                b.replaceSubrange(start..<end, with: text)
            } else {
                b.insert(contentsOf: text, at: below(n + 1))
            }
        case 6 where n > 0:  // truncate
            b.removeLast(1 + below(n))
        case 7 where n > 0:  // duplicate a range somewhere else
            let at = below(n)
            let piece = Array(b[at..<min(n, at + 1 + below(64))])
            b.insert(contentsOf: piece, at: below(n + 1))
        case 8 where !dictionary.isEmpty:  // a dictionary token, inserted or written over
            let token = dictionary[below(dictionary.count)]
            let at = below(n + 1)
            if below(2) == 0 { b.insert(contentsOf: token, at: at) } else {
                b.replaceSubrange(at..<min(n, at + token.count), with: token)
            }
        case 9 where !other.isEmpty:  // crossover: a prefix of this, a suffix of another seed
            b = Array(b.prefix(below(n + 1))) + Array(other.suffix(below(other.count + 1)))
        default:  // swap two bytes
            if n > 1 { b.swapAt(below(n), below(n)) }
        }
        return b
    }
}

// MARK: - Saving the input that traps

/// Parks the current input where a signal handler can write it out when the process traps (Swift
/// overflow and range traps arrive as SIGILL/SIGTRAP). The handler only uses async-signal-safe
/// calls, then restores the previous handler (Swift's backtracer) and re-raises.
/// One fuzz target runs at a time per process (fuzz suites are `.serialized`, one per test target).
enum CrashCapture {
    nonisolated(unsafe) static var input: UnsafeMutablePointer<UInt8>?
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var path: UnsafeMutablePointer<CChar>?
    /// The handlers in place before ours, indexed by signal number.
    nonisolated(unsafe) static let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
    nonisolated(unsafe) static var installed = false
    nonisolated(unsafe) static var capacity = 0
    static let signals: [Int32] = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT]

    static func install(target: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("swejepa-fuzz-\(target)-crash.bin").path
        free(path)
        path = strdup(file)
        guard !installed else { return }
        installed = true
        for s in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                if let path = CrashCapture.path, let input = CrashCapture.input {
                    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    if fd >= 0 { _ = write(fd, input, CrashCapture.count); close(fd) }
                    let note = "\nfuzz: the input that trapped is saved at "
                    _ = note.withCString { write(2, $0, strlen($0)) }
                    _ = write(2, path, strlen(path)); _ = write(2, "\n", 1)
                }
                sigaction(sig, CrashCapture.previous + Int(sig), nil)
                raise(sig)
            }
            sigaction(s, &action, previous + Int(s))
        }
    }

    static func park(_ bytes: [UInt8]) {
        if bytes.count > capacity {
            input?.deallocate()
            capacity = max(bytes.count, 2 * capacity)
            input = .allocate(capacity: capacity)
        }
        count = 0
        if let input, !bytes.isEmpty { bytes.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: bytes.count) } }
        count = bytes.count
    }
}
