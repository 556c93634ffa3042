import Core
import Foundation
import Store

/// Decodes vector uploads in the three wire forms into a `VectorBatch` for one space.
///
/// - `application/json`: `{"ids":[…], "vectors":[[…],…]}` (token spaces: a matrix per id), or
///   `{"ids":[…], "vectors_b64":["…"]}` with each entry base64 of little-endian float32 values.
/// - `application/x-npy`: a 2-D float array (n × dim); ids in `?ids=1,2,3` or an `X-Ids` header
///   (token spaces: one id and its T × dim matrix).
/// - `application/x-npz` (`np.savez(f, ids=…, vectors=…, rows=…)`): ids, vectors and, for token
///   spaces, the row count of each id.
enum VectorBody {
    static func decode(_ req: RequestContext, space: SpaceRecord) throws -> VectorBatch {
        try decode(req.body, contentType: req.contentType, ids: req.query("ids") ?? req.header("X-Ids"), space: space)
    }

    /// The body alone (`ids`: the `?ids=` / `X-Ids` text, used by `.npy`); throws `APIError` or
    /// Core's `NPYError` for anything it cannot take.
    static func decode(_ body: Data, contentType: String, ids idText: String?, space: SpaceRecord) throws -> VectorBatch {
        switch contentType {
        case "application/x-npy", "application/octet-stream":
            let array = try NPYArray(data: body)
            let ids = try idList(idText, required: true)!
            return try fromMatrix(array, ids: ids, rows: nil, space: space)
        case "application/x-npz", "application/zip":
            let members = try NPZ.decode(body)
            guard let idsArray = members["ids"], let vectors = members["vectors"] else {
                throw APIError.badRequest(".npz needs members 'ids' and 'vectors' (np.savez(f, ids=…, vectors=…))", code: "bad_npz")
            }
            let rows = try members["rows"].map { try $0.int64s().map(Int.init) }
            return try fromMatrix(vectors, ids: try idsArray.int64s(), rows: rows, space: space)
        case "application/json":
            return try fromJSON(body, space: space)
        default:
            throw APIError.unsupportedMediaType(
                "Content-Type '\(contentType)' is not accepted; use application/json, application/x-npy or application/x-npz")
        }
    }

    /// Parses `1,2,3` (or a JSON array `[1,2,3]`) into ids: the spec's `IdList` pattern — ids of 1 to
    /// 18 digits with an optional `-`, separated by commas, optionally in brackets; no spaces (in a
    /// query string a form-encoding client sends a space as `+`).
    static func idList(_ text: String?, required: Bool) throws -> [Int64]? {
        guard let text, !text.isEmpty else {
            if required { throw APIError.badRequest("give the function ids as ?ids=1,2,3 or an X-Ids header", code: "missing_ids") }
            if text != nil { throw APIError.badRequest("ids is empty; leave it out for all ids", code: "invalid_ids") }
            return nil
        }
        var trimmed = Substring(text)
        if trimmed.first == "[" { trimmed = trimmed.dropFirst() }
        if trimmed.last == "]" { trimmed = trimmed.dropLast() }
        var ids = [Int64]()
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let digits = String(part)
            let body = digits.hasPrefix("-") ? digits.utf8.dropFirst() : digits.utf8[...]
            guard (1...18).contains(body.count), body.allSatisfy({ (0x30...0x39).contains($0) }), let id = Int64(digits) else {
                throw APIError.badRequest("'\(part)' in ids is not an integer", code: "invalid_ids")
            }
            ids.append(id)
        }
        return ids
    }

    static func fromMatrix(_ array: NPYArray, ids: [Int64], rows: [Int]?, space: SpaceRecord) throws -> VectorBatch {
        let values = try array.floats()
        guard array.shape.count == 2 || (array.shape.count == 1 && ids.count == 1) else {
            throw APIError.unprocessable("vectors must be a 2-D array (n × \(space.dim)), got shape \(array.shape)", code: "wrong_dimension")
        }
        let width = array.shape.last ?? 0
        guard width == space.dim else {
            throw APIError.unprocessable("vectors have \(width) columns, space '\(space.name)' has dim \(space.dim)", code: "wrong_dimension")
        }
        let height = array.shape.count == 2 ? array.shape[0] : 1
        if space.kind.isTokens {
            let r = rows ?? (ids.count == 1 ? [height] : [])
            guard r.count == ids.count else {
                throw APIError.badRequest("token spaces need 'rows' (token count per id) when several ids are sent", code: "missing_rows")
            }
            // Each count is at least 1 and their sum must equal `height`: checked as they are added,
            // so counts near Int.max (or negative ones cancelling out) are refused, never summed blindly.
            var total = 0
            for (i, n) in r.enumerated() {
                guard n >= 1, n <= height - total else {
                    throw APIError.unprocessable("rows[\(i)] is \(n): each id needs 1 or more rows and together they must add up to the \(height) rows of vectors", code: "wrong_dimension")
                }
                total += n
            }
            guard total == height else {
                throw APIError.unprocessable("rows add up to \(total) but vectors has \(height) rows", code: "wrong_dimension")
            }
            return VectorBatch(ids: ids, rows: r, values: values)
        }
        guard height == ids.count else {
            throw APIError.unprocessable("\(ids.count) ids for \(height) vectors", code: "wrong_dimension")
        }
        return VectorBatch(ids: ids, values: values)
    }

    static func fromJSON(_ body: Data, space: SpaceRecord) throws -> VectorBatch {
        struct Plain: Decodable { var ids: [Int64]; var vectors: [[Float32Value]]? ; var vectorsB64: [String]?
            enum CodingKeys: String, CodingKey { case ids, vectors, vectorsB64 = "vectors_b64" } }
        struct Tokens: Decodable { var ids: [Int64]; var vectors: [[[Float32Value]]] }
        if space.kind.isTokens, !(String(decoding: body.prefix(4096), as: UTF8.self).contains("vectors_b64")) {
            let t: Tokens
            do { t = try JSONCodec.decode(Tokens.self, from: body, nonNull: ["ids", "vectors"]) } catch let e as APIError where e.code == "invalid_json" {
                // Well-formed for a vector space (the spec's VectorsInput): the space's kind decides, so a 422.
                if (try? JSONDecoder().decode(Plain.self, from: body))?.vectors != nil {
                    throw APIError.unprocessable("space '\(space.name)' holds a token matrix per id (vectors: [[[…]]]), got one vector per id", code: "wrong_dimension")
                }
                throw e
            }
            guard t.ids.count == t.vectors.count else {
                throw APIError.unprocessable("\(t.ids.count) ids for \(t.vectors.count) matrices", code: "wrong_dimension")
            }
            var values = [Float]()
            var rows = [Int]()
            for (i, m) in t.vectors.enumerated() {
                for (j, row) in m.enumerated() where row.count != space.dim {
                    throw APIError.unprocessable("vectors[\(i)][\(j)] has \(row.count) values, space '\(space.name)' has dim \(space.dim)", code: "wrong_dimension")
                }
                rows.append(m.count)
                for row in m { values += row.map(\.value) }
            }
            return VectorBatch(ids: t.ids, rows: rows, values: values)
        }
        let p: Plain
        do { p = try JSONCodec.decode(Plain.self, from: body, nonNull: ["ids", "vectors", "vectors_b64"]) } catch let e as APIError where e.code == "invalid_json" {
            // Well-formed for a token space (the spec's TokenVectorsInput): the space's kind decides, so a 422.
            if (try? JSONDecoder().decode(Tokens.self, from: body)) != nil {
                throw APIError.unprocessable("space '\(space.name)' holds one vector per id, got a matrix per id", code: "wrong_dimension")
            }
            throw e
        }
        var values = [Float]()
        var rows = [Int]()
        if let vectors = p.vectors {
            guard p.ids.count == vectors.count else {
                throw APIError.unprocessable("\(p.ids.count) ids for \(vectors.count) vectors", code: "wrong_dimension")
            }
            values.reserveCapacity(vectors.count * space.dim)
            for (i, v) in vectors.enumerated() {
                guard v.count == space.dim else {
                    throw APIError.unprocessable("vectors[\(i)] has \(v.count) values, space '\(space.name)' has dim \(space.dim)", code: "wrong_dimension")
                }
                values += v.map(\.value)
                rows.append(1)
            }
        } else if let encoded = p.vectorsB64 {
            guard p.ids.count == encoded.count else {
                throw APIError.unprocessable("\(p.ids.count) ids for \(encoded.count) vectors", code: "wrong_dimension")
            }
            for (i, text) in encoded.enumerated() {
                guard let data = Data(base64Encoded: text) else {
                    throw APIError.badRequest("vectors_b64[\(i)] is not valid base64", code: "invalid_base64")
                }
                guard data.count % (4 * space.dim) == 0, !data.isEmpty else {
                    throw APIError.unprocessable("vectors_b64[\(i)] has \(data.count) bytes, not a multiple of 4 × dim (\(space.dim))", code: "wrong_dimension")
                }
                values += VectorCodec.decode(data, as: .float32)
                rows.append(data.count / (4 * space.dim))
            }
        } else {
            throw APIError.badRequest("missing field 'vectors' (or 'vectors_b64')", code: "invalid_json")
        }
        return VectorBatch(ids: p.ids, rows: rows, values: values)
    }
}

/// A JSON number stored as float32. Decoded as a Double first, so a tiny value such as 1e-300
/// rounds to 0 as float32 does (Foundation's Float decoding refuses it as "not valid JSON"), and
/// refused beyond ±3.4028235e38 (the spec's `Float32` range: Float.greatestFiniteMagnitude as
/// downloads write it; up to there a value rounds to that largest float) with a 400 naming it.
struct Float32Value: Decodable, Sendable {
    var value: Float

    init(from decoder: any Decoder) throws {
        let d = try decoder.singleValueContainer().decode(Double.self)
        guard abs(d) <= 3.4028235e38 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "\(d) is outside the float32 range (±3.4028235e38)"))
        }
        value = Float(d)
    }
}
