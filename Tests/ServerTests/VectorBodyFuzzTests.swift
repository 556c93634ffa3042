import Core
import Foundation
@testable import Store
import Testing
import TestSupport
@testable import Server

/// Fuzzing of the vector upload bodies (`VectorBody`: JSON, `.npy`, `.npz`) against a plain and a
/// token space: every input decodes or throws `APIError` or `NPYError` (both answered as 4xx), and
/// what decodes is consistent (values = rows × dim). Seeds: Fixtures/fuzz/vectorbody plus Core's
/// npy/npz seeds; the first bytes of an input choose its content type.
@Suite(.serialized, .ownThreads) struct VectorBodyFuzzTests {
    static let seeds: [(name: String, bytes: [UInt8])] = {
        let root = PackagePaths.root.appendingPathComponent("Tests")
        return ["ServerTests/Fixtures/fuzz/vectorbody", "CoreTests/Fixtures/fuzz/npy", "CoreTests/Fixtures/fuzz/npz"]
            .flatMap { (try? Fuzz.seeds(in: root.appendingPathComponent($0))) ?? [] }
    }()

    static func space(_ kind: SpaceKind) -> SpaceRecord {
        SpaceRecord(id: 1, name: kind.rawValue, model: "m", layer: nil, kind: kind, dim: 3, dtype: .float32,
                    metric: .cosine, indexFactory: "Flat", generation: 0, count: 0, stale: 0, createdAt: 0)
    }

    /// The content type a fuzzed input is sent as: its first bytes decide, like a client that sniffs.
    static func contentType(_ bytes: [UInt8]) -> String {
        if bytes.starts(with: [0x93]) { return "application/x-npy" }
        if bytes.starts(with: [0x50, 0x4b]) { return "application/x-npz" }
        return "application/json"
    }

    @Test func tokenRowsSummingPastIntMaxAreRefused() throws {
        let body = Data(try #require(Self.seeds.first { $0.name == "crash_rows_sum_overflow.npz" }).bytes)
        #expect(throws: APIError.self) {
            try VectorBody.decode(body, contentType: "application/x-npz", ids: nil, space: Self.space(.sigTokens))
        }
        do { _ = try VectorBody.decode(body, contentType: "application/x-npz", ids: nil, space: Self.space(.sigTokens)) } catch let e as APIError {
            #expect(e.code == "wrong_dimension")
            #expect("\(e)".contains("rows[0] is 9223372036854775807"))
        }
    }

    @Test func fuzzVectorBodies() {
        let spaces = [Self.space(.bodyMean), Self.space(.sigTokens)]
        let dictionary = ["{\"ids\":[", "\"vectors\":[[", "\"vectors_b64\":[\"", "]]", "[[[", "1e39", "-0.0", "null", "\"rows\""]
            .map { Array($0.utf8) }
        let run = Fuzz.run(target: "vectorbody", seeds: Self.seeds.map(\.bytes), dictionary: dictionary,
                           iterations: Fuzz.iterations(default: 3_000)) { bytes in
            let type = Self.contentType(bytes)
            for space in spaces {
                let batch = try VectorBody.decode(Data(bytes), contentType: type, ids: "1,2", space: space)
                #expect(batch.ids.count == batch.rows.count)
                #expect(batch.values.count == batch.rows.reduce(0, +) * space.dim || batch.rows.contains { $0 < 1 })
            }
        } accepts: { error in
            error is APIError || error is NPYError
        }
        #expect(run.unexpected.isEmpty, "\(run.unexpected.map(\.error))")
        #expect(run.parsed > 0 && run.rejected > 0)
    }
}
