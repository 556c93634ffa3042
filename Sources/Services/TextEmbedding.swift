import Core
import Foundation
import Teacher

/// Embedding a few texts with a teacher, synchronously (`POST /v1/embed`); a corpus goes through an
/// embed job instead. Sentence-transformers style by default: mean over all tokens, L2-normalised.
///
/// ```swift
/// let out = try await TextEmbedding.embed(TextEmbedding.Request(texts: ["def f(x): return x"]), dataDirectory: dir)
/// out.vectors[0].count == out.dim   // 384 for the default teacher, last layer
/// ```
public enum TextEmbedding {
    public static let maxTexts = 256

    public struct Request: Sendable {
        public var texts: [String]
        /// Hidden-state layer (0 = embeddings, default: the last).
        public var layer: Int?
        /// A model folder name under `DATA/models` (BERT files or one `.gguf`; default: the default teacher).
        public var model: String?
        public var pooling: FunctionEmbedder.Pooling = .mean
        public var normalize = true
        public init(texts: [String], layer: Int? = nil, model: String? = nil) {
            self.texts = texts
            self.layer = layer
            self.model = model
        }
    }

    public struct Result: Sendable {
        public var model: String
        public var layer: Int
        public var dim: Int
        public var vectors: [[Float]]
    }

    public static func embed(_ request: Request, dataDirectory: URL, models: ModelCache = .shared) async throws -> Result {
        guard !request.texts.isEmpty, request.texts.count <= maxTexts else {
            throw APIError.badRequest("texts must hold 1 to \(maxTexts) strings (use an embed job for a corpus)", code: "invalid_parameter")
        }
        if let layer = request.layer, !(0...1_000).contains(layer) {
            throw APIError.badRequest("layer must be in 0...1000, got \(layer)", code: "invalid_parameter")
        }
        let model = try models.model(request.model, dataDirectory: dataDirectory)
        let layer = request.layer ?? model.layerCount
        guard (0...model.layerCount).contains(layer) else {  // the spec's range, beyond this model: 422
            throw APIError.unprocessable("layer must be in 0...\(model.layerCount) for \(model.name)", code: "invalid_parameter")
        }
        let vectors = try await Compute.run {
            try FunctionEmbedder(model: model).embed(texts: request.texts, layer: layer, pooling: request.pooling, normalize: request.normalize)
        }
        return Result(model: model.name, layer: layer, dim: model.hiddenSize, vectors: vectors)
    }
}
