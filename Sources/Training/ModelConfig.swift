import Core

/// Which student architecture.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
    /// Mean-pooled signature → hidden → D with GELU (the seed's experiment 1.1).
    case mlp
    /// Linear(D→d_model), N pre-norm transformer blocks, masked mean-pool, Linear(d_model→D).
    case sigPredictor = "sig_predictor"
    /// The `sig_predictor` encoder, then a cross-attention decoder whose learned position queries
    /// predict the teacher's hidden state at each of the first `maxTargetTokens` body tokens; its
    /// pooled output is the prediction (InfoNCE) and its per-position outputs carry a token loss.
    case tokenDecoder = "token_decoder"

    /// Models with the transformer encoder over signature tokens.
    public var hasEncoder: Bool { self != .mlp }
}

/// Which training loss.
public enum LossKind: String, Codable, Sendable, CaseIterable {
    /// SmoothL1 (beta 1, mean) between the raw prediction and the normalised target.
    case smoothL1 = "smooth_l1"
    /// InfoNCE over in-batch (and optional hard) negatives on L2-normalised vectors.
    case infoNCE = "info_nce"
}

/// Hyper-parameters of a student model and its loss head (everything needed to rebuild it).
///
/// ```swift
/// var m = ModelConfig(kind: .sigPredictor, inputDim: 384, outputDim: 384)
/// m.layers = 2; m.dModel = 512; m.heads = 8; m.ffnDim = 2048
/// ```
public struct ModelConfig: Codable, Sendable, Equatable {
    public var kind: ModelKind
    public var inputDim: Int
    public var outputDim: Int
    public var dModel: Int = 512
    public var heads: Int = 8
    public var ffnDim: Int = 2048
    public var layers: Int = 2
    /// Hidden width of the `mlp` model.
    public var mlpHidden: Int = 1024
    /// Dropout probability (attention output, FFN activation and FFN output; the MLP's hidden layer).
    public var dropout: Double = 0.1
    /// A LayerNorm after the last pre-norm block (before pooling).
    public var finalNorm: Bool = true
    public var layerNormEps: Double = 1e-5
    public var loss: LossKind = .infoNCE
    /// InfoNCE: add the column (targets → predictions) direction.
    public var symmetric: Bool = false
    public var temperatureInit: Double = 0.07
    public var temperatureMin: Double = 0.01
    public var temperatureMax: Double = 1.0
    public var learnTemperature: Bool = true
    /// `token_decoder`: query positions (body tokens predicted per function), at most `maxTargetTokensLimit`.
    public var maxTargetTokens: Int = 64
    /// `token_decoder`: cross-attention + FFN blocks of the decoder.
    public var decoderLayers: Int = 1
    /// `token_decoder`: weight of the per-token cosine loss beside the pooled InfoNCE.
    public var tokenLossWeight: Double = 1.0
    /// The largest `maxTargetTokens`.
    public static let maxTargetTokensLimit = 512

    public init(kind: ModelKind, inputDim: Int, outputDim: Int) {
        self.kind = kind
        self.inputDim = inputDim
        self.outputDim = outputDim
    }

    /// Throws `TrainingError.invalidModelConfig` naming the first inconsistent field.
    public func validate() throws {
        func bad(_ m: String) -> TrainingError { .invalidModelConfig(m) }
        guard inputDim > 0, outputDim > 0 else { throw bad("inputDim and outputDim must be positive") }
        guard (0..<1).contains(dropout) else { throw bad("dropout must be in [0, 1), got \(dropout)") }
        guard temperatureMin > 0, temperatureMin <= temperatureInit, temperatureInit <= temperatureMax else {
            throw bad("need 0 < temperatureMin ≤ temperatureInit ≤ temperatureMax")
        }
        guard layerNormEps > 0 else { throw bad("layerNormEps must be positive") }
        switch kind {
        case .mlp:
            guard mlpHidden > 0 else { throw bad("mlpHidden must be positive") }
        case .sigPredictor, .tokenDecoder:
            guard dModel > 0, heads > 0, ffnDim > 0, layers >= 0 else {
                throw bad("dModel, heads, ffnDim must be positive and layers ≥ 0")
            }
            guard dModel % heads == 0 else { throw bad("dModel \(dModel) is not divisible by heads \(heads)") }
            if kind == .tokenDecoder {
                guard (1...Self.maxTargetTokensLimit).contains(maxTargetTokens) else {
                    throw bad("maxTargetTokens must be in 1...\(Self.maxTargetTokensLimit), got \(maxTargetTokens)")
                }
                guard decoderLayers >= 0 else { throw bad("decoderLayers must be ≥ 0") }
                guard tokenLossWeight >= 0, tokenLossWeight.isFinite else { throw bad("tokenLossWeight must be ≥ 0") }
                guard loss == .infoNCE else { throw bad("token_decoder trains its pooled prediction with the info_nce loss") }
            }
        }
    }
}

/// One named tensor inside the flat parameter buffer.
public struct ParameterEntry: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// AdamW weight decay applies (matrices only; never biases, norms or the temperature).
    public var decay: Bool
    enum Init: Sendable, Equatable { case linear(fanIn: Int), xavier(fanIn: Int, fanOut: Int), uniform(Double), zeros, ones, constant(Double) }
    var initializer: Init
}

/// The named offsets of every parameter tensor in one contiguous buffer (PyTorch-style names).
///
/// ```swift
/// let layout = ParameterLayout(config)
/// let w = layout["blocks.0.attn.in_proj_weight"]!   // offset, shape [3·d, d]
/// ```
public struct ParameterLayout: Sendable, Equatable {
    public private(set) var entries: [ParameterEntry] = []
    public private(set) var count = 0
    private var index: [String: Int] = [:]

    public subscript(name: String) -> ParameterEntry? { index[name].map { entries[$0] } }

    func offset(_ name: String) -> Int { entries[index[name]!].offset }

    private mutating func add(_ name: String, _ shape: [Int], decay: Bool, _ initializer: ParameterEntry.Init) {
        index[name] = entries.count
        let e = ParameterEntry(name: name, shape: shape, offset: count, decay: decay, initializer: initializer)
        entries.append(e)
        count += e.count
    }

    private mutating func linear(_ prefix: String, inDim: Int, outDim: Int, zeroBias: Bool = false) {
        add("\(prefix).weight", [outDim, inDim], decay: true, .linear(fanIn: inDim))
        add("\(prefix).bias", [outDim], decay: false, zeroBias ? .zeros : .linear(fanIn: inDim))
    }

    private mutating func norm(_ prefix: String, _ d: Int) {
        add("\(prefix).weight", [d], decay: false, .ones)
        add("\(prefix).bias", [d], decay: false, .zeros)
    }

    public init(_ c: ModelConfig) {
        switch c.kind {
        case .mlp:
            linear("fc1", inDim: c.inputDim, outDim: c.mlpHidden)
            linear("fc2", inDim: c.mlpHidden, outDim: c.outputDim)
        case .sigPredictor, .tokenDecoder:
            let d = c.dModel
            linear("input_proj", inDim: c.inputDim, outDim: d)
            for l in 0..<c.layers { block("blocks.\(l)", attention: "attn", d: d, ffn: c.ffnDim) }
            if c.finalNorm { norm("final_norm", d) }
            if c.kind == .tokenDecoder { decoder(c) }
            linear("output_proj", inDim: d, outDim: c.outputDim)
        }
        add("log_temperature", [], decay: false, .constant(_logD(c.temperatureInit)))
    }

    /// One pre-norm block `p`: norm1, the attention `p.<attention>` (PyTorch MHA names: `in_proj` rows
    /// q | k | v, Xavier-uniform, zero biases), norm2 and the FFN `linear1`/`linear2`.
    private mutating func block(_ p: String, attention: String, d: Int, ffn: Int) {
        norm("\(p).norm1", d)
        add("\(p).\(attention).in_proj_weight", [3 * d, d], decay: true, .xavier(fanIn: d, fanOut: 3 * d))
        add("\(p).\(attention).in_proj_bias", [3 * d], decay: false, .zeros)
        linear("\(p).\(attention).out_proj", inDim: d, outDim: d, zeroBias: true)
        norm("\(p).norm2", d)
        linear("\(p).linear1", inDim: d, outDim: ffn)
        linear("\(p).linear2", inDim: ffn, outDim: d)
    }

    /// The token decoder: `decoder.query_embed [cap, d]` (position queries, N(0,1)-scale uniform
    /// U(±√3)), per layer a pre-norm cross-attention (PyTorch MHA names: `in_proj` rows q | k | v, q
    /// from the decoder stream, k and v from the encoded signature) and FFN, `decoder.final_norm`,
    /// `decoder.token_proj` (d_model → D per position). `output_proj` (after it) maps the pooled stream.
    private mutating func decoder(_ c: ModelConfig) {
        let d = c.dModel
        add("decoder.query_embed", [c.maxTargetTokens, d], decay: false, .uniform(3.0.squareRoot()))
        for l in 0..<c.decoderLayers { block("decoder.blocks.\(l)", attention: "cross_attn", d: d, ffn: c.ffnDim) }
        norm("decoder.final_norm", d)
        linear("decoder.token_proj", inDim: d, outDim: c.outputDim)
    }

    /// PyTorch's default initialisation, drawn in layout order from one seeded generator:
    /// Linear weight and bias U(±1/√fan_in); MHA in_proj Xavier-uniform, its biases and
    /// out_proj.bias 0; LayerNorm 1/0; log_temperature = log τ₀.
    public func initialize<T: TrainScalar>(_ params: UnsafeMutablePointer<T>, seed: UInt64) {
        var rng = TrainingRNG(seed: seed, stream: 1)
        for e in entries {
            let p = params + e.offset
            switch e.initializer {
            case .linear(let fanIn):
                let bound = 1 / Double(fanIn).squareRoot()
                for i in 0..<e.count { p[i] = T((rng.uniform() * 2 - 1) * bound) }
            case .xavier(let fanIn, let fanOut):
                let bound = (6 / Double(fanIn + fanOut)).squareRoot()
                for i in 0..<e.count { p[i] = T((rng.uniform() * 2 - 1) * bound) }
            case .uniform(let bound):
                for i in 0..<e.count { p[i] = T((rng.uniform() * 2 - 1) * bound) }
            case .zeros: p.update(repeating: 0, count: e.count)
            case .ones: p.update(repeating: 1, count: e.count)
            case .constant(let v): p.update(repeating: T(v), count: e.count)
            }
        }
    }
}

@inline(__always) func _logD(_ x: Double) -> Double { Double.logarithm(x) }
