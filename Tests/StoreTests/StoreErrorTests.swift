import Core
import Foundation
import TestSupport
import Testing
@testable import Store

/// Every `StoreError` is the caller's fault and keeps the status and code clients already see.
@Suite struct StoreErrorTests {
    /// (error, status, code) — the statuses and codes of `openapi/openapi.yaml`.
    static let cases: [(StoreError, Int, String)] = [
        (.invalidSpace("dim must be between 1 and 65536, got 0"), 400, "invalid_space"),
        (.spaceExists("s"), 409, "space_exists"),
        (.unknownSpace("s"), 404, "unknown_space"),
        (.unknownFunction(index: 1, id: 9), 422, "unknown_function"),
        (.unknownVectors(space: "s", ids: [4, 5]), 404, "unknown_vector"),
        (.invalidBatch("ids and rows differ in length"), 400, "bad_batch"),
        (.duplicateIDs(index: 2, id: 7, first: 0), 400, "duplicate_ids"),
        (.wrongDimension("vector 0 is empty"), 400, "wrong_dimension"),
        (.nonFinite(row: 1, value: 2), 400, "non_finite"),
        (.outOfRange(row: 1, value: 2, x: 7e4), 400, "out_of_range"),
        (.invalidFunction(index: 0, reason: "repo is empty"), 400, "invalid_function"),
        (.duplicateFunction(index: 1, first: 0, key: "r a.py f"), 422, "duplicate_keys"),
        (.inconsistentFunction(index: 0, reason: "end_line (1) is before start_line (2)"), 422, "invalid_function"),
        (.invalidProbeResult(target: "loc"), 422, "invalid_probe_result"),
        (.invalidNeighbour(functionID: 3, rank: -1, score: 0.5), 422, "invalid_neighbours"),
        (.conflictingNeighbours(space: "s", reason: "FOREIGN KEY constraint failed"), 409, "invalid_neighbours"),
    ]

    @Test func everyCaseIsACallersFaultWithItsStatusAndCode() {
        for (error, status, code) in Self.cases {
            #expect(error.category.isCallerFault, "\(error)")
            let api = APIError(error)
            #expect(api.status == status && api.code == code && api.message == error.description, "\(api)")
        }
    }

    @Test(arguments: Backend.all) func unknownVectorsNameTheSpaceAndEveryMissingID(_ backend: Backend) async throws {
        let fresh = try TestStore(backend)
        defer { fresh.remove() }
        let store = fresh.store
        let ids = try await store.upsertFunctions([fn("a"), fn("b"), fn("c")]).ids
        _ = try await store.createSpace(SpaceInput(name: "v", kind: .bodyMean, dim: 2))
        try await store.upsertVectors(space: "v", VectorBatch(ids: [ids[0]], values: [1, 2]))
        do {
            _ = try await store.vectors(space: "v", ids: [ids[2], ids[0], ids[1]])
            Issue.record("vectors of functions without one were returned")
        } catch StoreError.unknownVectors(let space, let missing) {
            #expect(space == "v" && missing == [ids[2], ids[1]])
        }
        await #expect(throws: StoreError.unknownSpace("w")) { try await store.vectors(space: "w", ids: [ids[0]]) }
        await #expect(throws: StoreError.spaceExists("v")) { try await store.createSpace(SpaceInput(name: "v", kind: .bodyMean, dim: 2)) }
        await #expect(throws: StoreError.self) { try await store.createSpace(SpaceInput(name: "bad name", kind: .bodyMean, dim: 2)) }
    }
}
