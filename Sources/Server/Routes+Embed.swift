import Core
import FlyingFox
import Foundation
import Jobs
import Teacher

extension APIServer {
    /// `POST /v1/embed {texts: [...], layer?, model?, pooling?: "mean"|"cls", normalize?}`: small inputs
    /// embedded synchronously with the teacher (sentence-transformers style: mean over all tokens, L2-normalised).
    public static func embedRoutes(_ ctx: ServiceContext) -> [Route] {
        [Route("POST", "/v1/embed") { req in
            struct Body: Decodable {
                var texts: [String]
                var layer: Int?
                var model: String?
                var pooling: String?
                var normalize: Bool?
            }
            let body = try JSONCodec.decode(Body.self, from: req.body)
            guard !body.texts.isEmpty, body.texts.count <= 256 else {
                throw APIError.badRequest("texts must hold 1 to 256 strings (use an embed job for a corpus)", code: "invalid_parameter")
            }
            let pooling: FunctionEmbedder.Pooling
            switch body.pooling ?? "mean" {
            case "mean": pooling = .mean
            case "cls": pooling = .cls
            default: throw APIError.badRequest("pooling must be 'mean' or 'cls'", code: "invalid_parameter")
            }
            let model = try ModelCache.shared.model(body.model, dataDirectory: ctx.dataDirectory)
            let layer = body.layer ?? model.layerCount
            guard (0...model.layerCount).contains(layer) else {
                throw APIError.badRequest("layer must be in 0...\(model.layerCount) for \(model.name)", code: "invalid_parameter")
            }
            let vectors = try await Compute.run {
                try FunctionEmbedder(model: model).embed(texts: body.texts, layer: layer, pooling: pooling, normalize: body.normalize ?? true)
            }
            if req.wants("application/x-npy", format: "npy") {
                return .npy(NPYArray(floats: vectors.flatMap { $0 }, shape: [vectors.count, model.hiddenSize]))
            }
            return try .json(["model": JSONValue.string(model.name), "layer": .number(Double(layer)), "dim": .number(Double(model.hiddenSize)),
                              "vectors": .array(vectors.map { .array($0.map { .number(Double($0)) }) })])
        }]
    }
}
