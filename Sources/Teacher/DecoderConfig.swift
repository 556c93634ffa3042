import Foundation

/// Hyper-parameters of a decoder-only transformer (Llama, Qwen2, Qwen3), read from GGUF metadata
/// (`<arch>.*` keys, `arch` = `general.architecture`).
///
/// ```swift
/// let file = try GGUFFile(path: "SmolLM2-135M-Instruct.Q4_1.gguf")
/// let config = try DecoderConfig(gguf: file)
/// config.layerCount            // 30
/// config.headCount / config.kvHeadCount   // 9 / 3
/// ```
public struct DecoderConfig: Sendable, Equatable {
    public enum Architecture: String, Sendable, CaseIterable {
        /// Llama (SmolLM2, Llama 2/3): no biases; GGUF Q/K rows permuted by llama.cpp's converter.
        case llama
        /// Qwen2 / Qwen2.5: biases on the Q, K and V projections.
        case qwen2
        /// Qwen3: per-head RMSNorm of queries and keys before RoPE, no biases.
        case qwen3
    }

    /// How RoPE positions are scaled (`<arch>.rope.scaling.type`).
    public enum RopeScaling: Sendable, Equatable {
        case none
        /// Positions divided by `factor` (`rope.scaling.factor`).
        case linear(factor: Double)
    }

    public let architecture: Architecture
    /// Transformer blocks N (`block_count`); hidden states are numbered 0 … N.
    public let layerCount: Int
    /// Residual width D (`embedding_length`).
    public let hiddenSize: Int
    /// SwiGLU width (`feed_forward_length`).
    public let intermediateSize: Int
    public let headCount: Int
    /// Key/value heads (`attention.head_count_kv`, else `head_count`); a divisor of `headCount`.
    public let kvHeadCount: Int
    /// Per-head width (`attention.key_length`, else D / heads).
    public let headDim: Int
    /// `rope.freq_base` (10,000 when absent).
    public let ropeBase: Double
    public let ropeScaling: RopeScaling
    /// `attention.layer_norm_rms_epsilon`.
    public let rmsNormEps: Float
    /// `context_length`: the longest sequence accepted.
    public let contextLength: Int
    public let vocabSize: Int

    /// Query width heads · headDim (may differ from D, as in Qwen3).
    public var queryDim: Int { headCount * headDim }
    /// Key (and value) width kvHeads · headDim.
    public var kvDim: Int { kvHeadCount * headDim }

    public init(gguf file: GGUFFile) throws {
        guard let name = file.architecture else {
            throw TeacherError.missingMetadata(key: "general.architecture", expected: "a string")
        }
        guard let arch = Architecture(rawValue: name) else {
            throw TeacherError.unsupportedArchitecture("\(name) (decoders: llama, qwen2, qwen3)")
        }
        func int(_ key: String) throws -> Int { try file.requireInt("\(name).\(key)") }
        func positive(_ key: String, _ value: Int) throws -> Int {
            guard value > 0 else { throw TeacherError.invalidConfig("\(name).\(key) is \(value)") }
            return value
        }
        architecture = arch
        layerCount = try positive("block_count", int("block_count"))
        hiddenSize = try positive("embedding_length", int("embedding_length"))
        intermediateSize = try positive("feed_forward_length", int("feed_forward_length"))
        headCount = try positive("attention.head_count", int("attention.head_count"))
        kvHeadCount = try positive("attention.head_count_kv",
                                   file.metadata["\(name).attention.head_count_kv"]?.int ?? headCount)
        guard headCount % kvHeadCount == 0 else {
            throw TeacherError.invalidConfig("\(headCount) attention heads do not split into \(kvHeadCount) KV groups")
        }
        if let k = file.metadata["\(name).attention.key_length"]?.int {
            headDim = try positive("attention.key_length", k)
        } else {
            guard hiddenSize % headCount == 0 else {
                throw TeacherError.invalidConfig("embedding_length \(hiddenSize) is not a multiple of \(headCount) heads")
            }
            headDim = hiddenSize / headCount
        }
        guard headDim % 2 == 0 else { throw TeacherError.invalidConfig("head dimension \(headDim) is odd (RoPE rotates pairs)") }
        if let v = file.metadata["\(name).attention.value_length"]?.int, v != headDim {
            throw TeacherError.invalidConfig("value_length \(v) differs from key_length \(headDim)")
        }
        if let r = file.metadata["\(name).rope.dimension_count"]?.int, r != headDim {
            throw TeacherError.invalidConfig("partial RoPE (rope.dimension_count \(r) of \(headDim)) is not supported")
        }
        ropeBase = file.metadata["\(name).rope.freq_base"]?.double ?? 10_000
        switch file.metadata["\(name).rope.scaling.type"]?.string ?? "none" {
        case "none": ropeScaling = .none
        case "linear":
            let f = file.metadata["\(name).rope.scaling.factor"]?.double ?? 1
            guard f > 0 else { throw TeacherError.invalidConfig("rope.scaling.factor \(f)") }
            ropeScaling = f == 1 ? .none : .linear(factor: f)
        case let other: throw TeacherError.invalidConfig("RoPE scaling \(other) is not supported (none, linear are)")
        }
        rmsNormEps = Float(try file.requireDouble("\(name).attention.layer_norm_rms_epsilon"))
        contextLength = try positive("context_length", int("context_length"))
        guard let embd = file.tensor("token_embd.weight"), embd.dimensions.count == 2, embd.dimensions[0] == hiddenSize else {
            throw TeacherError.missingTensor("token_embd.weight (\(hiddenSize) × vocabulary)")
        }
        vocabSize = embd.dimensions[1]
    }
}
