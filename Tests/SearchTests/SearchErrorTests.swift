import Core
import Foundation
import Testing
@testable import Search

/// The mapping that `SearchService.apiError` did by hand, now `SearchError`'s own: the caller's
/// mistakes are 4xx with the codes clients know; index files, I/O and memory are ours.
@Suite struct SearchErrorTests {
    static let callers: [(SearchError, Int, String)] = [
        (.unknownSpace("s"), 404, "unknown_space"),
        (.rebuildInProgress("s"), 409, "rebuild_in_progress"),
        (.kOutOfRange(5000), 400, "invalid_k"),
        (.dimensionMismatch(expected: 4, got: 3), 400, "wrong_dimension"),
        (.shapeMismatch(rows: 2, dim: 4, floats: 7), 400, "wrong_dimension"),
        (.nonFinite(row: 0, column: 1), 400, "non_finite"),
        (.invalidParameter("nprobe must be in 1...65536"), 400, "invalid_parameter"),
        (.invalidFactory("Bogus", reason: "unknown"), 422, "invalid_index"),
        (.faissRejected("PQ7 does not divide 64"), 422, "invalid_index"),
        (.notEnoughTrainingVectors(needed: 39, got: 3), 422, "invalid_index"),
        (.notTrained(factory: "IVF4,Flat"), 422, "invalid_index"),
    ]
    static let ours: [SearchError] = [
        .missingIndexFile(path: "/x"), .corruptIndexFile(path: "/x", reason: "crc"),
        .staleIndexFile(path: "/x", found: 1, expected: 2), .io(path: "/x", message: "EIO"), .outOfMemory,
    ]

    @Test func callersFaultsAre4xxAndTheRest500() {
        for (error, status, code) in Self.callers {
            #expect(error.isBadInput && error.category.isCallerFault, "\(error)")
            let api = APIError(error)
            #expect(api.status == status && api.code == code && api.message == error.description, "\(api)")
        }
        for error in Self.ours {
            #expect(!error.isBadInput && APIError(error).status == 500, "\(error)")
        }
    }

    @Test func aRealIndexThrowsTheMappedCase() throws {
        let index = try VectorIndex(factory: IndexFactory("Flat"), metric: .l2, dim: 4)
        try index.add(ids: [1, 2], vectors: [1, 0, 0, 0, 0, 1, 0, 0])
        do { _ = try index.search(queries: [1, 0, 0, 0], k: 5000); Issue.record("k 5000 accepted") }
        catch let e as SearchError { #expect(APIError(e).status == 400 && e.code == "invalid_k", "\(e)") }
        do { _ = try index.search(queries: [1, 0, 0], k: 1); Issue.record("3 floats for dim 4 accepted") }
        catch let e as SearchError { #expect(APIError(e).status == 400 && e.code == "wrong_dimension", "\(e)") }
    }
}
