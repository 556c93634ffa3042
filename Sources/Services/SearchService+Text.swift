import Core
import Corpus
import Foundation
import Store
import Teacher

/// Search by text (`POST /v1/spaces/{name}/search {"texts": […]}`): each text becomes a query vector
/// made exactly as the space's own vectors were made, then is searched like a vector query.
///
/// - A teacher space an embed job wrote (`MODEL.L<layer>.<kind>`, its model, layer and kind recorded on
///   the space, the model on this server): the text goes through the embed job's path
///   (`FunctionEmbedder.embed(functions:layers:kinds:)`). A text that is a whole Python function (its
///   first line of code a decorator or `def`, at any indentation: a method pasted alone counts) is split
///   as ingest splits a function (decorators + header + docstring | the rest); `sig_mean` reads its
///   signature, `body_mean` signature + body (mean over the body's tokens), `body_only_mean` its body.
///   Any other text is the part the kind reads, whole: the signature for `sig_mean`, the body for
///   `body_mean` (after an empty signature) and `body_only_mean`.
/// - A student space a train job wrote (`model` = `student.job-ID`): the text's signature (the split
///   above, or the text whole) through that job's checkpoint, as `POST /v1/predict {"signatures": …}`.
/// - Anything else (vectors uploaded by a client or a remote worker, a model this server does not
///   have): 422 `space_not_embeddable`.
///
/// ```swift
/// var q = SearchQuery(texts: ["def read_json(path):\n    with open(path) as f:\n        return json.load(f)\n"])
/// q.k = 5
/// let answer = try await search.search(q, in: space)   // the stored read_json first, score ≈ 1
/// ```
extension SearchService {
    /// How a space's query texts become vectors.
    public enum TextEncoding: Sendable, Equatable {
        /// The embed job's teacher pass: model folder name, layer, kind.
        case teacher(model: String, layer: Int, kind: SpaceKind)
        /// The student a train job wrote this space with.
        case student(jobID: Int64)
    }

    /// Texts per search (`/v1/embed` and `/v1/predict` take as many).
    public static let maxTexts = TextEmbedding.maxTexts
    /// Characters (Unicode scalars) per text: 16,384, so at most 64 KiB of UTF-8; a teacher reads 512 tokens anyway.
    public static let maxTextCharacters = 16_384

    /// What the space records about how its vectors were made, or 422 `space_not_embeddable`.
    public static func textEncoding(of space: SpaceRecord) throws -> TextEncoding {
        if space.kind == .student {
            let prefix = "student.job-"
            guard space.model.hasPrefix(prefix), let id = Int64(space.model.dropFirst(prefix.count)) else {
                throw notEmbeddable(space, "it is a student space no train job of this store wrote")
            }
            return .student(jobID: id)
        }
        guard [.sigMean, .bodyMean, .bodyOnlyMean].contains(space.kind) else {
            throw notEmbeddable(space, "its kind \(space.kind.rawValue) is not one a text can be embedded as (sig_mean, body_mean, body_only_mean, student)")
        }
        guard let layer = space.layer, !space.model.isEmpty, space.name == spaceName(model: space.model, layer: layer, kind: space.kind) else {
            throw notEmbeddable(space, "its vectors were uploaded, not made by an embed job (such a space is named MODEL.L<layer>.<kind> and records its model and layer)")
        }
        return .teacher(model: space.model, layer: layer, kind: space.kind)
    }

    static func notEmbeddable(_ space: SpaceRecord, _ why: String) -> APIError {
        APIError.unprocessable("texts cannot be searched in space '\(space.name)': \(why); search it with vectors or function_ids",
                               code: "space_not_embeddable")
    }

    /// The parts of a query text an embed job would read: a text whose first line of code (blank and
    /// comment lines skipped) is a decorator or a `def`, and that parses as Python (an indented one
    /// inside a class, so a method keeps its indentation as ingest keeps it), split as ingest splits
    /// its first function; else nil (the text is whole the part its space's kind reads).
    ///
    /// ```swift
    /// SearchService.functionText("def f(x):\n    return x\n")          // signature "def f(x):", body "    return x"
    /// SearchService.functionText("    def m(self):\n        pass\n")   // signature "    def m(self):", body "        pass"
    /// SearchService.functionText("def f(x):")                            // nil: no body, not a whole function
    /// SearchService.functionText("    return x\n")                      // nil: a body
    /// ```
    public static func functionText(_ text: String) -> FunctionText? {
        let lines = text.split(whereSeparator: \.isNewline)
        guard let first = lines.first(where: { line in
            let t = line.drop(while: { $0 == " " || $0 == "\t" })
            return !t.isEmpty && !t.hasPrefix("#")
        }) else { return nil }
        let code = first.drop(while: { $0 == " " || $0 == "\t" })
        guard code.hasPrefix("@") || code.hasPrefix("def ") || code.hasPrefix("async def ") else { return nil }
        let source = code.count == first.count ? text : "class _:\n" + text
        guard let functions = try? PythonExtractor.extract(utf8: Array(source.utf8), path: "query.py"),
              let outer = functions.min(by: { ($0.startByte, -$0.endByte) < ($1.startByte, -$1.endByte) }) else { return nil }
        return FunctionText(signature: outer.signature, body: outer.body)
    }

    /// Query vectors (row-major, texts.count × space.dim) for `texts` in `space`; texts already validated.
    func textQueries(_ texts: [String], in space: SpaceRecord) async throws -> [Float] {
        switch try Self.textEncoding(of: space) {
        case .teacher(let name, let layer, let kind):
            let model: any TeacherModel
            do { model = try ModelCache.shared.model(name, dataDirectory: dataDirectory) } catch let e as APIError {
                throw Self.notEmbeddable(space, "its model is not usable on this server (\(e.message))")
            }
            guard layer <= model.layerCount, model.hiddenSize == space.dim else {
                throw Self.notEmbeddable(space, "model \(model.name) has \(model.layerCount) layers of dim \(model.hiddenSize), the space is layer \(layer) of dim \(space.dim)")
            }
            let functions = texts.map { text -> FunctionText in
                if let f = Self.functionText(text) { return f }
                return kind == .sigMean ? FunctionText(signature: text, body: "") : FunctionText(signature: "", body: text)
            }
            let out = try await Compute.run {
                try FunctionEmbedder(model: model).embed(functions: functions, layers: [layer], kinds: [kind])
            }
            var values = [Float]()
            values.reserveCapacity(texts.count * space.dim)
            for (i, e) in out.enumerated() {
                guard let v = e.vector(layer: layer, kind: kind), v.count == space.dim, (e.tokenCounts[kind] ?? 0) > 0 else {
                    throw APIError.unprocessable("texts[\(i)] has no tokens to embed as \(kind.rawValue) (a function whose body is only "
                                                 + "its docstring has an empty body: its stored \(kind.rawValue) is a zero vector, "
                                                 + "which has no nearest neighbours)", code: "empty_text")
                }
                values += v
            }
            return values
        case .student(let jobID):
            let source: StudentPredictions.Source
            do {
                source = try await StudentPredictions.resolve(store: store, dataDirectory: dataDirectory, jobID: jobID, checkpoint: nil)
            } catch let e as APIError {
                throw Self.notEmbeddable(space, "its train job \(jobID) cannot predict (\(e.message))")
            }
            guard source.info?.outputSpace == space.name else {
                throw Self.notEmbeddable(space, "train job \(jobID)'s checkpoint does not name this space as its output")
            }
            let signatures = texts.map { Self.functionText($0)?.signature ?? $0 }
            let out: StudentPredictions.Output
            do {
                out = try await StudentPredictions.predict(source, store: store, dataDirectory: dataDirectory, signatures: signatures)
            } catch let e as APIError where e.status == 422 || e.status == 404 {
                throw Self.notEmbeddable(space, "its student cannot read signature texts (\(e.message))")
            }
            guard out.dim == space.dim else {
                throw Self.notEmbeddable(space, "its student predicts dim \(out.dim), the space has dim \(space.dim)")
            }
            return out.values
        }
    }
}
