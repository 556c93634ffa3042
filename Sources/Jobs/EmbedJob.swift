import Core
import Foundation
import Services
import Store
import Teacher

/// `embed {model?, layers: [..] | "all", kinds?: [..], repo?, batch_size?}`: runs the teacher over the
/// corpus and stores one space per (layer, kind), named `MODEL.L<layer>.<kind>`. Resumable: functions
/// that already have a fresh vector in every requested space are skipped.
public enum EmbedJob {
    public static func register(on runner: JobRunner, writer: VectorWriter) {
        runner.register("embed", validate: validate) { ctx in try await run(ctx, writer: writer) }
    }

    static func kinds(_ p: JSONValue) throws -> [SpaceKind] {
        guard let list = p["kinds"] else { return SpaceKind.teacherKinds }
        guard let items = list.arrayValue, !items.isEmpty else {
            throw APIError.badRequest("'kinds' must be a non-empty list of \(SpaceKind.teacherKinds.map(\.rawValue))", code: "invalid_parameter")
        }
        return try items.map { item in
            guard let s = item.stringValue, let k = SpaceKind(rawValue: s), SpaceKind.teacherKinds.contains(k) else {
                throw APIError.badRequest("unknown kind \(item.jsonString()); kinds are \(SpaceKind.teacherKinds.map(\.rawValue).joined(separator: ", "))", code: "invalid_parameter")
            }
            return k
        }
    }

    static func layers(_ p: JSONValue, layerCount: Int?) throws -> [Int] {
        if p["layers"]?.stringValue == "all" { return Array(0...(layerCount ?? 0)) }
        guard let items = p["layers"]?.arrayValue, !items.isEmpty else {
            throw APIError.badRequest("'layers' must be a non-empty list of layer numbers (0 = embeddings output) or \"all\"", code: "invalid_parameter")
        }
        return try items.map { item in
            guard let l = item.intValue, l >= 0, l <= (layerCount ?? 1_000) else {
                throw APIError.badRequest("layer \(item.jsonString()) is not in 0...\(layerCount.map(String.init) ?? "L")", code: "invalid_parameter")
            }
            return l
        }
    }

    public static func validate(_ p: JSONValue) throws {
        _ = try kinds(p)
        _ = try layers(p, layerCount: nil)
        if let b = p["batch_size"], !(b.intValue.map { (1...100_000).contains($0) } ?? false) {
            throw APIError.badRequest("batch_size must be an integer in 1...100000", code: "invalid_parameter")
        }
    }

    static func run(_ ctx: JobContext, writer: VectorWriter) async throws -> JSONValue {
        let started = Date()
        let model = try ModelCache.shared.model(ctx.params["model"]?.stringValue, dataDirectory: ctx.dataDirectory)
        let layers = try self.layers(ctx.params, layerCount: model.layerCount)
        let kinds = try self.kinds(ctx.params)
        let repo = ctx.params["repo"]?.stringValue
        let chunk = ctx.params["batch_size"]?.intValue ?? 256
        let d = model.hiddenSize

        // One space per (layer, kind).
        var names = [EmbeddingKey: String]()
        for l in layers {
            for k in kinds {
                let name = spaceName(model: model.name, layer: l, kind: k)
                names[EmbeddingKey(layer: l, kind: k)] = name
                if try await ctx.store.space(named: name) == nil {
                    _ = try? await ctx.store.createSpace(SpaceInput(name: name, model: model.name, layer: l, kind: k, dim: d,
                                                                   dtype: .float32, metric: .cosine, indexFactory: "Flat"))
                }
            }
        }
        let todo = try await ctx.store.functionsMissingVectors(spaces: Array(names.values), repo: repo)
        await ctx.log("model \(model.name) (\(model.layerCount) layers, dim \(d)); layers \(layers), kinds \(kinds.map(\.rawValue)); \(todo.count) functions to embed")
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
                    // A signature with no tokens gives an empty matrix: store one zero row instead.
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
        return ["model": .string(model.name), "functions": .number(Double(done)),                 "truncated": .number(Double(truncatedCount)), "tokens": .number(Double(tokens)), "seconds": .number(seconds),
                "spaces": .array(names.values.sorted().map { .string($0) })]
    }
}
