import Core
import Foundation
import Services
import Store
import Teacher

/// `embed {model?, layers: [..] | "all", kinds?: [..], dtype?, repo?, batch_size?}`: runs the teacher over
/// the corpus and stores one space per (layer, kind), named `MODEL.L<layer>.<kind>`. Resumable: functions
/// that already have a fresh vector in every requested space are skipped. Kinds default to
/// `SpaceKind.defaultEmbedKinds` (`body_tokens` only when named). New spaces get `dtype`, else their
/// kind's default (float16 for `body_tokens`); an existing space keeps its own.
public enum EmbedJob {
    /// `embed`'s parameters (unknown keys are refused).
    ///
    /// ```swift
    /// let p = try EmbedJob.Params.decode(["layers": [3], "kinds": ["body_mean"]], job: "embed")
    /// p.batchSize   // 256
    /// let t = try EmbedJob.Params.decode(["layers": [3], "kinds": ["body_tokens"], "dtype": "float32"], job: "embed")
    /// ```
    public struct Params: JobParams, Equatable {
        /// A model name: a folder under `DATA/models` with BERT files or one `.gguf` (default `$SWEJEPA_MODEL` or all-MiniLM-L6-v2).
        public var model: String?
        /// Layers (0 = the embeddings output) or all of the model's.
        public var layers: LayerSelection
        public var kinds: [SpaceKind] = SpaceKind.defaultEmbedKinds
        /// Storage type of the spaces this job creates (nil: each kind's `defaultDType`).
        public var dtype: VectorDType?
        /// Only this repository's functions.
        public var repo: String?
        /// Functions per forward pass.
        public var batchSize = 256

        enum CodingKeys: String, CodingKey, CaseIterable {
            case model, layers, kinds, dtype, repo, batchSize = "batch_size"
        }
        public static let knownKeys: Set<String>? = Set(CodingKeys.allCases.map(\.rawValue))

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            model = try c.decodeIfPresent(String.self, forKey: .model)
            layers = try c.decode(LayerSelection.self, forKey: .layers)
            if let names = try c.decodeIfPresent([String].self, forKey: .kinds) {
                kinds = try SpaceKind.parse(names, among: SpaceKind.teacherKinds, key: .kinds, in: c)
            }
            dtype = try c.decodeIfPresent(VectorDType.self, forKey: .dtype)
            repo = try c.decodeIfPresent(String.self, forKey: .repo)
            batchSize = try c.value(.batchSize, default: batchSize)
        }

        public func validate() throws {
            try layers.validate(max: nil)
            try JobParamsCheck.range("batch_size", batchSize, 1...100_000)
            try JobParamsCheck.modelName("model", model)
        }
    }

    /// `embed`'s result.
    public struct Result: Encodable, Sendable {
        public var model: String
        public var functions: Int
        public var truncated: Int
        public var tokens: Int
        public var seconds: Double
        /// The spaces written, sorted.
        public var spaces: [String]
    }

    public static func register(on runner: JobRunner, writer: VectorWriter) {
        runner.register("embed", Params.self) { ctx, p in try await run(ctx, p, writer: writer) }
    }

    static func run(_ ctx: JobContext, _ p: Params, writer: VectorWriter) async throws -> Result {
        let started = Date()
        let model = try ModelCache.shared.model(p.model, dataDirectory: ctx.dataDirectory)
        try p.layers.validate(max: model.layerCount)
        let layers = p.layers.layers(count: model.layerCount)
        let kinds = p.kinds, repo = p.repo, chunk = p.batchSize
        let d = model.hiddenSize

        // One space per (layer, kind).
        var names = [EmbeddingKey: String]()
        for l in layers {
            for k in kinds {
                let name = spaceName(model: model.name, layer: l, kind: k)
                names[EmbeddingKey(layer: l, kind: k)] = name
                if let existing = try await ctx.store.space(named: name) {
                    if let wanted = p.dtype, wanted != existing.dtype {
                        await ctx.log("space \(name) exists as \(existing.dtype.rawValue): kept (dtype \(wanted.rawValue) applies to new spaces)")
                    }
                } else {
                    _ = try? await ctx.store.createSpace(SpaceInput(name: name, model: model.name, layer: l, kind: k, dim: d,
                                                                   dtype: p.dtype ?? k.defaultDType, metric: .cosine, indexFactory: "Flat"))
                }
            }
        }
        let todo = try await ctx.store.functionsMissingVectors(spaces: Array(names.values), repo: repo)
        await ctx.log("model \(model.name) (\(model.family), \(model.layerCount) layers, dim \(d)); layers \(layers), kinds \(kinds.map(\.rawValue)); \(todo.count) functions to embed")
        let embedder = FunctionEmbedder(model: model)
        var done = 0, truncatedCount = 0
        var tokens = 0
        for start in stride(from: 0, to: todo.count, by: chunk) {
            try ctx.checkCancelled()
            let ids = Array(todo[start..<min(todo.count, start + chunk)])
            let texts = try await ctx.store.functionTexts(ids: ids)
            let t0 = Date()
            let out = try await ctx.compute {
                try embedder.embed(functions: texts.map { FunctionText(signature: $0.signature, body: $0.body) },
                                   layers: layers, kinds: Set(kinds))
            }
            let seconds = Date().timeIntervalSince(t0)
            for (key, name) in names {
                var values = [Float](), rows = [Int](), truncated = [Bool]()
                for e in out {
                    // A signature (or body) with no tokens gives an empty matrix: store one zero row instead.
                    var v = e.vector(layer: key.layer, kind: key.kind) ?? []
                    if v.isEmpty { v = [Float](repeating: 0, count: d) }
                    values += v
                    rows.append(v.count / d)
                    truncated.append(e.truncated[key.kind] ?? false)
                }
                let batch = VectorBatch(ids: texts.map(\.id), rows: rows, values: values, truncated: truncated)
                try await writer.upsert(space: name, batch)
            }
            let chunkTokens = out.reduce(0) { $0 + $1.tokenCounts.values.reduce(0, +) }
            tokens += chunkTokens
            truncatedCount += out.filter { $0.truncated.values.contains(true) }.count
            done += texts.count
            await ctx.metrics([JobMetric(step: done, name: "functions_per_second", value: Double(texts.count) / seconds),
                               JobMetric(step: done, name: "tokens_per_second", value: Double(chunkTokens) / seconds)])
            await ctx.progress(Double(done) / Double(max(1, todo.count)),
                               String(format: "%d/%d functions, %.0f functions/s", done, todo.count, Double(texts.count) / seconds))
        }
        let seconds = Date().timeIntervalSince(started)
        await ctx.log(String(format: "embedded %d functions (%d truncated) in %.1f s", done, truncatedCount, seconds))
        return Result(model: model.name, functions: done, truncated: truncatedCount, tokens: tokens, seconds: seconds,
                      spaces: names.values.sorted())
    }
}

/// Which layers of a model: a list of layer numbers (0 = the embeddings output), or `"all"`.
///
/// ```swift
/// let p = try EmbedJob.Params.decode(["layers": "all"], job: "embed")
/// p.layers                    // .all
/// p.layers.layers(count: 6)   // [0, 1, …, 6]
/// ```
public enum LayerSelection: Decodable, Sendable, Equatable {
    case all
    case list([Int])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self), s == "all" { self = .all; return }
        guard let items = try? c.decode([Int].self), !items.isEmpty, items.count <= 1_000 else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "must be a non-empty list of layer numbers (0 = embeddings output) or \"all\"")
        }
        var out = [Int]()
        for l in items where !out.contains(l) { out.append(l) }
        self = .list(out)
    }

    /// Every layer is in 0...max (0...1000 when the model's layer count is not known yet).
    func validate(max: Int?) throws {
        guard case .list(let items) = self else { return }
        for l in items where !(0...(max ?? 1_000)).contains(l) {
            throw JobParamsCheck.bad("'layers' has layer \(l), not in 0...\(max.map(String.init) ?? "1000")")
        }
    }

    /// The layers, with `.all` as 0...count.
    func layers(count: Int) -> [Int] {
        switch self {
        case .all: Array(0...count)
        case .list(let l): l
        }
    }
}

extension SpaceKind {
    /// Kind names checked against `among` (duplicates dropped), for job params.
    static func parse<K: CodingKey>(_ names: [String], among: [SpaceKind], key: K, in c: KeyedDecodingContainer<K>) throws -> [SpaceKind] {
        let known = among.map(\.rawValue).joined(separator: ", ")
        guard !names.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be a non-empty list of \(known)")
        }
        var out = [SpaceKind]()
        for name in names {
            guard let k = SpaceKind(rawValue: name), among.contains(k) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "has the unknown kind \"\(name)\"; kinds are \(known)")
            }
            if !out.contains(k) { out.append(k) }
        }
        return out
    }
}
