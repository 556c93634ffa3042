import Core
import Foundation

/// The Float32 weights of a GGUF decoder kept beside it as one safetensors file, so that the next
/// load maps them instead of dequantising every tensor again.
///
/// The file is `DIR/<gguf name>.f32.safetensors` (a model folder uses `DATA/models/NAME/.swejepa-cache`)
/// and holds the forward's own layout (Q/K/V and gate/up fused, Q/K rows in Hugging Face order), each
/// tensor 64-byte aligned (U8 `__pad.*` tensors fill the gaps). Its `__metadata__` stamps the source
/// (file name, size, modification time), the layout version and a checksum of every tensor's bytes
/// (padding included).
/// A cache that is absent, stale (another GGUF, another layout), truncated or corrupt is ignored and
/// rewritten; writing is atomic (`AtomicFile`) and best-effort: a read-only folder simply has no cache.
///
/// ```swift
/// let cache = DecoderWeightCache(directory: dir.appendingPathComponent(".swejepa-cache"), source: gguf)
/// let weights = cache.read(config: config) ?? converted   // nil: absent, stale or corrupt
/// _ = cache.write(converted)                              // false: could not write (no cache)
/// ```
struct DecoderWeightCache: Sendable {
    /// The layout version: bump when the fused layout or the naming changes.
    static let format = "swejepa-decoder-f32-v1"
    /// The cache file's name suffix.
    static let suffix = ".f32.safetensors"
    let directory: URL
    let source: URL
    var url: URL { directory.appendingPathComponent(source.lastPathComponent + Self.suffix) }

    /// What identifies the source: its name, size and modification time (nil when it cannot be stat'ed).
    func stamp() -> [String: String]? {
        let real = source.resolvingSymlinksInPath()
        guard let a = try? FileManager.default.attributesOfItem(atPath: real.path),
              let size = (a[.size] as? NSNumber)?.intValue, let modified = a[.modificationDate] as? Date else { return nil }
        return ["format": Self.format, "source": source.lastPathComponent, "source_bytes": String(size),
                "source_mtime": String(format: "%.6f", modified.timeIntervalSince1970)]
    }

    /// Names and shapes of every tensor of `weights`, in file order.
    private static func entries(_ w: DecoderWeights, _ c: DecoderConfig) -> [(name: String, shape: [Int], buffer: FloatBuffer)] {
        let shapes = shapes(c)
        var out: [(String, [Int], FloatBuffer)] = [("token_embd", shapes["token_embd"]!, w.embeddings),
                                                  ("output_norm", shapes["output_norm"]!, w.outputNorm)]
        for (l, layer) in w.layers.enumerated() {
            for (name, buffer) in DecoderWeights.tensors(of: layer) { out.append(("blk.\(l).\(name)", shapes[name]!, buffer)) }
        }
        return out
    }

    /// The shape of each tensor kind for a config.
    private static func shapes(_ c: DecoderConfig) -> [String: [Int]] {
        let d = c.hiddenSize, ld = c.queryDim + 2 * c.kvDim, ffn = c.intermediateSize
        return ["token_embd": [c.vocabSize, d], "output_norm": [d], "attn_norm": [d], "wqkv": [ld, d], "bqkv": [ld],
                "q_norm": [c.headDim], "k_norm": [c.headDim], "wo": [d, c.queryDim], "bo": [d], "ffn_norm": [d],
                "w_gate_up": [2 * ffn, d], "w_down": [d, ffn]]
    }

    /// The cached weights for `config`, mapped; nil when the file is absent, stale or fails any check.
    func read(config c: DecoderConfig) -> DecoderWeights? {
        guard let stamp = stamp(), FileManager.default.fileExists(atPath: url.path),
              let file = try? SafeTensorFile(path: url.path) else { return nil }
        for (k, v) in stamp where file.metadata[k] != v { return nil }
        // Every tensor's bytes, in file order, against the checksum written with them.
        var sum = Checksum()
        for info in file.tensors.values.sorted(by: { $0.begin < $1.begin }) {
            guard (try? file.withRawBytes(info.name, { sum.add($0) })) != nil else { return nil }
        }
        guard file.metadata["checksum"] == sum.hex else { return nil }
        let shapes = Self.shapes(c)
        func view(_ name: String, _ kind: String) -> FloatBuffer? {
            guard let info = file.tensors[name], info.dtype == .f32, info.shape == shapes[kind],
                  (file.dataStart + info.begin) % 4 == 0 else { return nil }
            return FloatBuffer.mapped(file.mapping, offset: file.dataStart + info.begin, count: info.elementCount)
        }
        /// nil: absent (fine); .some(nil): present but wrong.
        func optional(_ name: String, _ kind: String) -> FloatBuffer?? {
            file.tensors[name] == nil ? .some(nil) : view(name, kind).map { .some($0) } ?? nil
        }
        guard let embeddings = view("token_embd", "token_embd"), let outputNorm = view("output_norm", "output_norm") else { return nil }
        var layers: [DecoderWeights.Layer] = []
        for l in 0..<c.layerCount {
            let p = "blk.\(l)."
            guard let attnNorm = view(p + "attn_norm", "attn_norm"), let wqkv = view(p + "wqkv", "wqkv"),
                  let wo = view(p + "wo", "wo"), let ffnNorm = view(p + "ffn_norm", "ffn_norm"),
                  let gateUp = view(p + "w_gate_up", "w_gate_up"), let down = view(p + "w_down", "w_down"),
                  let bqkv = optional(p + "bqkv", "bqkv"), let bo = optional(p + "bo", "bo"),
                  let qNorm = optional(p + "q_norm", "q_norm"), let kNorm = optional(p + "k_norm", "k_norm"),
                  (qNorm == nil) == (kNorm == nil), c.architecture != .qwen3 || qNorm != nil else { return nil }
            layers.append(.init(attnNorm: attnNorm, wqkv: wqkv, bqkv: bqkv, qNorm: qNorm, kNorm: kNorm, wo: wo, bo: bo,
                                ffnNorm: ffnNorm, wGateUp: gateUp, wDown: down))
        }
        return DecoderWeights(embeddings: embeddings, outputNorm: outputNorm, layers: layers)
    }

    /// Writes the cache (atomically) and removes other files of the cache directory (caches of a GGUF
    /// since renamed, temporary files of writes that died more than an hour ago). False when it cannot
    /// be written (a read-only folder, a full disk): the model is used uncached.
    @discardableResult
    func write(_ weights: DecoderWeights, config: DecoderConfig) -> Bool {
        guard let stamp = stamp() else { return false }
        let fm = FileManager.default
        do { try fm.createDirectory(at: directory, withIntermediateDirectories: true) } catch { return false }
        let entries = Self.entries(weights, config)
        var header: [String: Any] = [:], parts: [UnsafeRawBufferPointer] = [], sum = Checksum()
        let zero = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 64)
        defer { zero.deallocate() }
        zero.initializeMemory(as: UInt8.self, repeating: 0)
        var offset = 0, pads = 0
        for e in entries {
            let bytes = e.buffer.bytes
            header[e.name] = ["dtype": "F32", "shape": e.shape, "data_offsets": [offset, offset + bytes.count]] as [String: Any]
            parts.append(bytes)
            sum.add(bytes)
            offset += bytes.count
            let gap = (64 - offset % 64) % 64
            if gap > 0 {
                header["__pad.\(pads)"] = ["dtype": "U8", "shape": [gap], "data_offsets": [offset, offset + gap]] as [String: Any]
                parts.append(UnsafeRawBufferPointer(rebasing: zero[0..<gap]))
                sum.add(parts[parts.count - 1])
                offset += gap
                pads += 1
            }
        }
        var metadata = stamp
        metadata["checksum"] = sum.hex
        header["__metadata__"] = metadata
        guard var json = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) else { return false }
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (64 - (8 + json.count) % 64) % 64))  // data 64-byte aligned
        var length = UInt64(json.count).littleEndian
        let ok: Bool = withUnsafeBytes(of: &length) { len in
            json.withUnsafeBytes { head in (try? AtomicFile.write(to: url, parts: [len, head] + parts)) != nil }
        }
        if ok { removeOthers() }
        return ok
    }

    private func removeOthers() {
        let fm = FileManager.default, keep = url.lastPathComponent
        for name in (try? fm.contentsOfDirectory(atPath: directory.path)) ?? [] where name != keep {
            let path = directory.appendingPathComponent(name).path
            if name.hasPrefix(".") {  // AtomicFile's temporary files: another process may be writing one now
                let modified = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date ?? .distantFuture
                guard modified.timeIntervalSinceNow < -3600 else { continue }
            } else if !name.hasSuffix(Self.suffix) {
                continue
            }
            try? fm.removeItem(atPath: path)
        }
    }
}

/// A fast 64-bit checksum of byte runs (Fletcher-style over 64-bit words in four lanes: a sum and a
/// sum of sums, so changed, dropped and swapped words all change it). It guards the weight cache
/// against a damaged file, not against an adversary.
///
/// ```swift
/// var c = Checksum(); c.add(bytes); c.hex   // 16 hex digits
/// ```
struct Checksum {
    private var a = SIMD4<UInt64>(repeating: 0), b = SIMD4<UInt64>(repeating: 0), runs: UInt64 = 0

    mutating func add(_ raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress else { runs &+= 1; return }
        var i = 0
        let n = raw.count
        var a = self.a, b = self.b
        while i + 32 <= n {
            a &+= base.loadUnaligned(fromByteOffset: i, as: SIMD4<UInt64>.self)
            b &+= a
            i += 32
        }
        var tail = SIMD4<UInt64>(repeating: 0)
        for k in 0..<(n - i) { tail[k / 8] |= UInt64(base.load(fromByteOffset: i + k, as: UInt8.self)) << UInt64(8 * (k % 8)) }
        a &+= tail &+ SIMD4(repeating: UInt64(n))
        b &+= a
        self.a = a
        self.b = b
        runs &+= 1
    }

    var hex: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ runs
        for v in [a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]] { h = (h ^ v) &* 0x0000_0100_0000_01b3 }
        return String(h, radix: 16)
    }
}
