import Core

/// One batch for a student model: variable-length token matrices packed row after row.
///
/// ```swift
/// // two functions with 3 and 1 signature tokens, D = 4, targets only for them
/// let b = Batch<Float>(tokens: x /* 4×4 */, offsets: [0, 3, 4], targets: y /* 2×4 */)
/// ```
public struct Batch<T: TrainScalar>: Sendable {
    /// `[Σ Lᵢ, inputDim]`, sequence i = rows offsets[i]..<offsets[i+1].
    public var tokens: [T]
    /// `count + 1` prefix offsets, starting at 0, each sequence at least one token.
    public var offsets: [Int]
    /// `[columns, outputDim]`: the `count` positives (row i for function i), then extra hard negatives.
    public var targets: [T]
    /// Optional `[count × columns]` mask: 1 where target j is not a negative for row i (same duplicate group).
    public var exclude: [UInt8]?
    /// Duplicate group per row (`count` entries): needed with a negative queue, whose entries of a
    /// row's own group are not its negatives.
    public var groups: [Int]?
    /// `token_decoder`: the unit target token states `[Σ Tᵢ, outputDim]`, function i's rows
    /// `targetTokenOffsets[i]..<targetTokenOffsets[i+1]` (1 ≤ Tᵢ ≤ `maxTargetTokens`).
    public var targetTokens: [T]
    public var targetTokenOffsets: [Int]?

    public var count: Int { offsets.count - 1 }

    public init(tokens: [T], offsets: [Int], targets: [T] = [], exclude: [UInt8]? = nil, groups: [Int]? = nil,
                targetTokens: [T] = [], targetTokenOffsets: [Int]? = nil) {
        self.tokens = tokens
        self.offsets = offsets
        self.targets = targets
        self.exclude = exclude
        self.groups = groups
        self.targetTokens = targetTokens
        self.targetTokenOffsets = targetTokenOffsets
    }
}

/// A growable owned buffer (contents are not kept when it grows).
final class Buffer<T: TrainScalar> {
    private(set) var p: UnsafeMutablePointer<T>
    private(set) var capacity: Int
    init(_ n: Int = 1) {
        capacity = max(n, 1)
        p = .allocate(capacity: capacity)
        p.initialize(repeating: 0, count: capacity)
    }
    @discardableResult
    func ensure(_ n: Int) -> UnsafeMutablePointer<T> {
        if n > capacity {
            p.deallocate()
            capacity = n
            p = .allocate(capacity: n)
            p.initialize(repeating: 0, count: n)
        }
        return p
    }
    deinit { p.deallocate() }
}

/// A student model (`mlp`, `sig_predictor` or `token_decoder`) with hand-written forward and backward passes.
///
/// All parameters live in one contiguous buffer (`params`), gradients in another (`grads`), laid
/// out by `layout` with PyTorch-style names. Generic over the scalar so the same code runs in Float
/// (training) and Double (finite-difference checks).
///
/// ```swift
/// let model = try StudentModel<Float>(config: cfg, seed: 0)
/// let loss = try model.forward(batch, training: true, dropoutSeed: 1)
/// model.backward()                  // fills model.grads
/// // InfoNCE with queued negatives (batch.groups set): forward, backward, then enqueue the targets
/// try model.forward(batch, training: true, dropoutSeed: 2, negatives: queue)
/// let preds = try model.predict(tokens: x, offsets: [0, 3, 4])   // [2, outputDim]
/// ```
public final class StudentModel<T: TrainScalar> {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public var parameterCount: Int { layout.count }
    public let params: UnsafeMutablePointer<T>
    public let grads: UnsafeMutablePointer<T>

    struct BlockOffsets {
        var ln1w, ln1b, qkvw, qkvb, attw, attb, ln2w, ln2b, fc1w, fc1b, fc2w, fc2b: Int
    }
    final class BlockActs {
        let ln1 = Buffer<T>(), ln1Mean = Buffer<T>(), ln1Rstd = Buffer<T>(), qkv = Buffer<T>(), probs = Buffer<T>()
        let atty = Buffer<T>(), mask1 = Buffer<T>(), res1 = Buffer<T>(), ln2 = Buffer<T>(), ln2Mean = Buffer<T>()
        let ln2Rstd = Buffer<T>(), fc1Pre = Buffer<T>(), fc1Act = Buffer<T>(), maskF = Buffer<T>(), mask2 = Buffer<T>()
        let out = Buffer<T>()
        /// Cross-attention (decoder blocks) only: keys and values from the encoded signature; `qkv` then holds the queries alone.
        let kv = Buffer<T>()
    }

    let blockOffsets: [BlockOffsets]
    /// `token_decoder`: per decoder block (ln1 = query norm, qkv = cross_attn.in_proj), its activations.
    let decoderOffsets: [BlockOffsets]
    let decoderActs: [BlockActs]
    let offQuery, offDecLnf, offTokProj: Int
    let dec0 = Buffer<T>(), decLnf = Buffer<T>(), decLnfMean = Buffer<T>(), decLnfRstd = Buffer<T>()
    let tokPred = Buffer<T>(), tokNorms = Buffer<T>(), tokTargets = Buffer<T>(), tokHidden = Buffer<T>()
    let ddres = Buffer<T>(), ddtmp = Buffer<T>(), ddtmp2 = Buffer<T>(), ddbig = Buffer<T>(), dq = Buffer<T>()
    let dkv = Buffer<T>(), dmem = Buffer<T>(), dmemTmp = Buffer<T>(), dtok = Buffer<T>()
    /// Query rows per function: always all `maxTargetTokens` positions (training and prediction pool the
    /// same positions, so the pooled vector never depends on the body's length), their count.
    var queryOffsets: [Int] = [0]
    var nq = 0
    /// Target token rows per function (Tᵢ ≤ `maxTargetTokens`, the first Tᵢ query positions), their count
    /// (0 in prediction: no token head runs).
    var tokenOffsets: [Int] = [0]
    var ntgt = 0
    /// The token loss of the last training forward (unweighted; 0 for other models).
    public internal(set) var lastTokenLoss: T = 0
    let offIn, offLnf, offOut, offFc1, offFc2, offLogTemp: Int
    // Activations.
    let inp = Buffer<T>(), resid0 = Buffer<T>(), lnf = Buffer<T>(), lnfMean = Buffer<T>(), lnfRstd = Buffer<T>()
    let pooled = Buffer<T>(), hidPre = Buffer<T>(), hidAct = Buffer<T>(), hidMask = Buffer<T>(), out = Buffer<T>()
    let predN = Buffer<T>(), norms = Buffer<T>(), logits = Buffer<T>(), rowProbs = Buffer<T>(), colProbs = Buffer<T>()
    let targets = Buffer<T>()
    var excludeMask: [UInt8] = []
    /// The negative queue of the last forward (nil: none or empty), its version then, the rows' groups.
    var lossQueue: NegativeQueue<T>?
    var lossQueueVersion = 0
    var rowGroups: [Int] = []
    let blockActs: [BlockActs]
    // Gradient scratch.
    let dres = Buffer<T>(), dtmp = Buffer<T>(), dtmp2 = Buffer<T>(), dbig = Buffer<T>(), dqkv = Buffer<T>()
    let dscratch = Buffer<T>(), dpooled = Buffer<T>(), dout = Buffer<T>(), dpredN = Buffer<T>()

    // State of the last forward pass.
    var offsets: [Int] = [0]
    var ntok = 0, bsz = 0, ncol = 0, maxLen = 0
    var hasExclude = false, dropoutOn = false, lossReady = false
    /// The running forward keeps what `backward()` needs beyond the activations: GELU derivatives in
    /// place of the pre-activations (`forward` does, `predict` does not).
    var keepsDerivatives = false
    /// The loss of the last training forward.
    public internal(set) var lastLoss: T = 0

    public init(config: ModelConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        let layout = ParameterLayout(config)
        self.layout = layout
        params = .allocate(capacity: layout.count)
        params.initialize(repeating: 0, count: layout.count)
        grads = .allocate(capacity: layout.count)
        grads.initialize(repeating: 0, count: layout.count)
        layout.initialize(params, seed: seed)
        func o(_ n: String) -> Int { layout.offset(n) }
        var blocks: [BlockOffsets] = [], decoder: [BlockOffsets] = []
        func block(_ p: String, _ attn: String) -> BlockOffsets {
            BlockOffsets(
                ln1w: o("\(p).norm1.weight"), ln1b: o("\(p).norm1.bias"),
                qkvw: o("\(p).\(attn).in_proj_weight"), qkvb: o("\(p).\(attn).in_proj_bias"),
                attw: o("\(p).\(attn).out_proj.weight"), attb: o("\(p).\(attn).out_proj.bias"),
                ln2w: o("\(p).norm2.weight"), ln2b: o("\(p).norm2.bias"),
                fc1w: o("\(p).linear1.weight"), fc1b: o("\(p).linear1.bias"),
                fc2w: o("\(p).linear2.weight"), fc2b: o("\(p).linear2.bias"))
        }
        if config.kind == .tokenDecoder {
            decoder = (0..<config.decoderLayers).map { block("decoder.blocks.\($0)", "cross_attn") }
            offQuery = o("decoder.query_embed"); offDecLnf = o("decoder.final_norm.weight"); offTokProj = o("decoder.token_proj.weight")
        } else {
            offQuery = -1; offDecLnf = -1; offTokProj = -1
        }
        if config.kind.hasEncoder {
            blocks = (0..<config.layers).map { block("blocks.\($0)", "attn") }
            offIn = o("input_proj.weight"); offOut = o("output_proj.weight")
            offLnf = config.finalNorm ? o("final_norm.weight") : -1
            offFc1 = -1; offFc2 = -1
        } else {
            offFc1 = o("fc1.weight"); offFc2 = o("fc2.weight")
            offIn = -1; offOut = -1; offLnf = -1
        }
        offLogTemp = o("log_temperature")
        blockOffsets = blocks
        blockActs = blocks.map { _ in BlockActs() }
        decoderOffsets = decoder
        decoderActs = decoder.map { _ in BlockActs() }
    }

    deinit {
        params.deallocate()
        grads.deallocate()
    }

    /// The current temperature τ = exp(log_temperature).
    public var temperature: T { T.exponential(params[offLogTemp]) }
    var logTemperatureOffset: Int { offLogTemp }

    /// A view of one named parameter tensor (nil if the name is unknown).
    public func parameter(_ name: String) -> UnsafeMutableBufferPointer<T>? {
        layout[name].map { UnsafeMutableBufferPointer(start: params + $0.offset, count: $0.count) }
    }

    /// A view of one named gradient tensor.
    public func gradient(_ name: String) -> UnsafeMutableBufferPointer<T>? {
        layout[name].map { UnsafeMutableBufferPointer(start: grads + $0.offset, count: $0.count) }
    }

    /// The raw outputs `[count, outputDim]` of the last forward.
    public var outputs: [T] { Array(UnsafeBufferPointer(start: out.p, count: bsz * config.outputDim)) }

    // MARK: - Input checks

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func setInputs(tokens: [T], offsets o: [Int]) throws {
        let din = config.inputDim
        guard o.count >= 2, o[0] == 0 else {
            throw TrainingError.invalidBatch("batch needs at least one sequence and offsets starting at 0")
        }
        var ml = 0
        for b in 0..<(o.count - 1) {
            let l = o[b + 1] - o[b]
            guard l >= 1 else {
                throw TrainingError.invalidBatch("sequence \(b) of the batch has \(l) tokens; each needs at least 1")
            }
            ml = max(ml, l)
        }
        guard tokens.count == o[o.count - 1] * din else {
            throw TrainingError.wrongDimension("batch has \(tokens.count) token values, expected \(o[o.count - 1]) × \(din)")
        }
        offsets = o
        bsz = o.count - 1
        ntok = o[bsz]
        maxLen = ml
        inp.ensure(ntok * din).update(from: tokens, count: tokens.count)
    }
}

