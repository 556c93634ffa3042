import Core
import FlyingFox
import Foundation
import Services

extension APIServer {
    /// `POST /v1/embed {texts: [...], layer?, model?, pooling?: "mean"|"cls"|"last", normalize?}`: small inputs
    /// embedded synchronously with the teacher (sentence-transformers style: mean over all tokens, L2-normalised);
    /// `GET /v1/models`: the models `model` may name (`ModelCache.catalog`).
    public static func embedRoutes(_ ctx: ServiceContext) -> [Route] {
        [Route("GET", "/v1/models") { _ in
            let models = try await ModelCache.shared.catalog(dataDirectory: ctx.dataDirectory)
            return try .json(["models": JSONValue.array(models.map { m in
                .object(["name": .string(m.name), "family": .string(m.family), "layers": .number(Double(m.layers)),
                         "dim": .number(Double(m.dim)), "parameters": .number(Double(m.parameters)), "file": .string(m.file),
                         "file_bytes": .number(Double(m.fileBytes)), "sha256": .string(m.sha256), "default": .bool(m.isDefault)])
            })])
        },
         Route("POST", "/v1/embed") { req in
            struct Body: Decodable {
                var texts: [String]
                var layer: Int?
                var model: String?
                var pooling: String?
                var normalize: Bool?
            }
            try req.checkFormat(["json", "npy"])
            let body = try JSONCodec.decode(Body.self, from: req.body, nonNull: ["texts", "layer", "model", "pooling", "normalize"])
            var request = TextEmbedding.Request(texts: body.texts, layer: body.layer, model: body.model)
            switch body.pooling ?? "mean" {
            case "mean": request.pooling = .mean
            case "cls": request.pooling = .cls
            case "last": request.pooling = .last
            default: throw APIError.badRequest("pooling must be 'mean', 'cls' or 'last'", code: "invalid_parameter")
            }
            request.normalize = body.normalize ?? true
            let out = try await TextEmbedding.embed(request, dataDirectory: ctx.dataDirectory)
            if req.wants("application/x-npy", format: "npy") {
                return .npy(NPYArray(floats: out.vectors.flatMap { $0 }, shape: [out.vectors.count, out.dim]))
            }
            return try .json(["model": JSONValue.string(out.model), "layer": .number(Double(out.layer)), "dim": .number(Double(out.dim)),
                              "vectors": .array(out.vectors.map { .array($0.map { .number(Double($0)) }) })])
        }]
    }
}
