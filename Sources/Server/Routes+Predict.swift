import Core
import FlyingFox
import Foundation
import Services

extension APIServer {
    /// `POST /v1/predict {job_id | checkpoint, function_ids | signatures, format?}`: a trained student's
    /// predicted embeddings (L2-normalised in the centred target space, like its `student` space),
    /// as JSON `{ids, dim, vectors}`, `.npy` `[n, dim]` or `.npz` (`vectors`, and `ids` for function ids)
    /// by `format` (body or query) or `Accept`.
    public static func predictRoutes(_ ctx: ServiceContext) -> [Route] {
        [Route("POST", "/v1/predict") { req in
            struct Body: Decodable {
                var job_id: Int64?
                var checkpoint: String?
                var function_ids: [Int64]?
                var signatures: [String]?
                var format: String?
            }
            try req.checkFormat(["json", "npy", "npz"])
            let body = try JSONCodec.decode(Body.self, from: req.body, nonNull: ["job_id", "checkpoint", "function_ids", "signatures", "format"])
            if let f = body.format, !["json", "npy", "npz"].contains(f) {
                throw APIError.badRequest("format must be json, npy or npz", code: "invalid_parameter")
            }
            let source = try await StudentPredictions.resolve(store: ctx.store, dataDirectory: ctx.dataDirectory,
                                                              jobID: body.job_id, checkpoint: body.checkpoint)
            let out: StudentPredictions.Output
            switch (body.function_ids, body.signatures) {
            case (let ids?, nil):
                out = try await StudentPredictions.predict(source, store: ctx.store, functionIDs: ids)
            case (nil, let texts?):
                out = try await StudentPredictions.predict(source, store: ctx.store, dataDirectory: ctx.dataDirectory, signatures: texts)
            default:
                throw APIError.badRequest("give exactly one of 'function_ids' and 'signatures'", code: "invalid_parameter")
            }
            let n = out.values.count / max(out.dim, 1)
            if body.format == "npz" || (body.format == nil && req.wants("application/x-npz", format: "npz")) {
                var arrays = ["vectors": NPYArray(floats: out.values, shape: [n, out.dim])]
                if let ids = body.function_ids { arrays["ids"] = NPYArray(int64s: ids) }
                return try .npz(arrays)
            }
            if body.format == "npy" || (body.format == nil && req.wants("application/x-npy", format: "npy")) {
                return .npy(NPYArray(floats: out.values, shape: [n, out.dim]))
            }
            return try .json(PredictJSON(checkpoint: out.source.directory.path, job_id: out.source.jobID,
                                         input_space: out.source.info?.inputSpace, output_space: out.source.info?.outputSpace,
                                         dim: out.dim, ids: body.function_ids,
                                         vectors: (0..<n).map { Array(out.values[($0 * out.dim)..<(($0 + 1) * out.dim)]) }))
        }]
    }
}

/// The JSON answer of `/v1/predict` (Float values as Float, like `GET …/vectors`).
struct PredictJSON: Encodable {
    var checkpoint: String
    var job_id: Int64?
    var input_space: String?
    var output_space: String?
    var dim: Int
    var ids: [Int64]?
    var vectors: [[Float]]
}
