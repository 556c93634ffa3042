import Core
import Foundation
import Testing
import TestSupport
@testable import Teacher

/// The dequantised-weight cache of GGUF model folders (`DecoderWeightCache`, `.swejepa-cache/`): the
/// first load writes it, the next maps it and gives bit-identical hidden states; a corrupt, truncated
/// or stale cache is detected and rewritten; a folder where it cannot be written works without one.
@Suite struct DecoderWeightCacheTests {
    /// A model folder NAME/ holding a copy (or a link) of `gguf`.
    static func folder(_ root: URL, copying gguf: URL, link: Bool = false) throws -> URL {
        let dir = root.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let target = dir.appendingPathComponent(gguf.lastPathComponent)
        if link { try FileManager.default.createSymbolicLink(at: target, withDestinationURL: gguf) } else {
            try FileManager.default.copyItem(at: gguf, to: target)
        }
        return dir
    }

    static func load(_ dir: URL) throws -> DecoderModel {
        try #require(try TeacherModelFolder(directory: dir).load() as? DecoderModel)
    }

    static func states(_ m: DecoderModel, _ batch: [[Int32]]) throws -> [Int: [Float]] {
        try m.hiddenStates(batch: batch, layers: Array(0...m.layerCount)).layers
    }

    static func cacheFile(_ dir: URL, _ gguf: String) -> URL {
        dir.appendingPathComponent(".swejepa-cache/\(gguf).f32.safetensors")
    }

    @Test(arguments: ["qwen2_f32", "llama_q8_0", "qwen3_f32"])
    func cachedLoadsAreBitIdenticalAndDamageIsRepaired(_ name: String) throws {
        let root = try makeTemporaryDirectory("weight-cache")
        defer { removeTemporaryDirectory(root) }
        let dir = try Self.folder(root, copying: DecoderForwardTests.dir.appendingPathComponent("\(name).gguf"))
        let batch: [[Int32]] = [[3, 17, 5, 44, 0, 9], [47, 2, 11]]
        let cache = Self.cacheFile(dir, "\(name).gguf")

        let first = try Self.load(dir)
        #expect(first.weightSource == .convertedAndCached)
        #expect(FileManager.default.fileExists(atPath: cache.path))
        let want = try Self.states(first, batch)
        // The cache is plain safetensors: F32 tensors, 64-byte aligned.
        let file = try SafeTensorFile(path: cache.path)
        #expect(file.metadata["format"] == DecoderWeightCache.format && file.metadata["source"] == "\(name).gguf")
        #expect(file.tensors.values.allSatisfy { $0.name.hasPrefix("__pad.") || ($0.dtype == .f32 && (file.dataStart + $0.begin) % 64 == 0) })

        let second = try Self.load(dir)
        #expect(second.weightSource == .cache)
        #expect(try Self.states(second, batch) == want)

        // Damage of every kind: a flipped byte in the weights, a truncated file, a garbage header.
        let data = try Data(contentsOf: cache)
        var flipped = data
        flipped[data.count - 3] ^= 0x10
        let damages: [(String, Data)] = [("flipped byte", flipped), ("truncated", data.prefix(data.count - 100)),
                                         ("garbage header", Data("not a safetensors file".utf8)), ("empty", Data())]
        for (what, bytes) in damages {
            try bytes.write(to: cache)
            let repaired = try Self.load(dir)
            #expect(repaired.weightSource == .convertedAndCached, "\(what)")
            #expect(try Self.states(repaired, batch) == want, "\(what)")
            #expect(try Data(contentsOf: cache) == data, "\(what): rewritten as before")
            #expect(try Self.load(dir).weightSource == .cache, "\(what)")
        }
    }

    @Test func aChangedGGUFMakesTheCacheStaleAndOldCachesAreRemoved() throws {
        let root = try makeTemporaryDirectory("weight-cache")
        defer { removeTemporaryDirectory(root) }
        let dir = try Self.folder(root, copying: DecoderForwardTests.dir.appendingPathComponent("qwen2_f32.gguf"))
        let gguf = dir.appendingPathComponent("qwen2_f32.gguf")
        #expect(try Self.load(dir).weightSource == .convertedAndCached)
        // Another file under the same name: same size, new modification time.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -86_400)], ofItemAtPath: gguf.path)
        #expect(try Self.load(dir).weightSource == .convertedAndCached)
        #expect(try Self.load(dir).weightSource == .cache)
        // A GGUF renamed: its new cache replaces the old one, a stale temporary file goes too.
        let stale = dir.appendingPathComponent(".swejepa-cache/.x.f32.safetensors.tmp-1-2")
        try Data("partial".utf8).write(to: stale)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7_200)], ofItemAtPath: stale.path)
        try FileManager.default.moveItem(at: gguf, to: dir.appendingPathComponent("renamed.gguf"))
        #expect(try Self.load(dir).weightSource == .convertedAndCached)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(".swejepa-cache").path)
        #expect(left == ["renamed.gguf.f32.safetensors"])
    }

    @Test func aFolderWhereTheCacheCannotBeWrittenStillLoads() throws {
        let root = try makeTemporaryDirectory("weight-cache")
        defer { removeTemporaryDirectory(root) }
        let dir = try Self.folder(root, copying: DecoderForwardTests.dir.appendingPathComponent("llama_f32.gguf"))
        let want = try Self.states(try DecoderModel.load(path: dir.appendingPathComponent("llama_f32.gguf").path), [[1, 2, 3]])
        // A file where the cache folder would go: no directory can be made there, even by root.
        let blocker = dir.appendingPathComponent(".swejepa-cache")
        try Data("not a folder".utf8).write(to: blocker)
        let model = try Self.load(dir)
        #expect(model.weightSource == .converted)
        #expect(try Self.states(model, [[1, 2, 3]]) == want)
        #expect(try Data(contentsOf: blocker) == Data("not a folder".utf8))
        // A read-only folder (only meaningful when not running as root, which bypasses permissions).
        try FileManager.default.removeItem(at: blocker)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: dir.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path) }
        let readOnly = try Self.load(dir)
        #expect(try Self.states(readOnly, [[1, 2, 3]]) == want)
        if geteuid() != 0 { #expect(readOnly.weightSource == .converted) }
    }

    /// The real SmolLM2 (linked into a temporary model folder): load times fresh and cached, and the
    /// cached model's states bit-identical to the fresh one's.
    @Test(.enabled(if: GGUFSmolLM2Tests.present, "SmolLM2 GGUF absent: run `make model-smollm2`"))
    func smolLM2CachedLoadIsBitIdentical() throws {
        let root = try makeTemporaryDirectory("weight-cache-smollm2")
        defer { removeTemporaryDirectory(root) }
        let dir = try Self.folder(root, copying: URL(fileURLWithPath: GGUFSmolLM2Tests.path), link: true)
        let clock = ContinuousClock()
        var first: DecoderModel?, second: DecoderModel?
        let fresh = try clock.measure { first = try Self.load(dir) }
        let cached = try clock.measure { second = try Self.load(dir) }
        let a = try #require(first), b = try #require(second)
        #expect(a.weightSource == .convertedAndCached && b.weightSource == .cache)
        let ids = try #require(a.tokenizer).encode("def add(a, b):\n    return a + b\n").ids
        let sa = try a.hiddenStates(batch: [ids, Array(ids.prefix(5))], layers: [1, 15, 30])
        let sb = try b.hiddenStates(batch: [ids, Array(ids.prefix(5))], layers: [1, 15, 30])
        #expect(sa.layers == sb.layers)
        let bytes = (try FileManager.default.attributesOfItem(atPath: Self.cacheFile(dir, URL(fileURLWithPath: GGUFSmolLM2Tests.path).lastPathComponent).path)[.size] as? NSNumber)?.intValue ?? 0
        print("SmolLM2 load: dequantise + write cache \(fresh), from cache \(cached) (cache file \(bytes >> 20) MiB)")
    }
}
