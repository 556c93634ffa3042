import Core
import Foundation
import Testing
import TestSupport
@testable import Training

/// Training's errors carry no HTTP status; their categories give today's statuses and codes.
@Suite struct TrainingErrorTests {
    static let cases: [(TrainingError, Int, String)] = [
        (.invalidModelConfig("dropout must be in [0, 1), got 2.0"), 400, "invalid_model_config"),
        (.invalidTrainingConfig("epochs must be at least 1"), 400, "invalid_training_config"),
        (.invalidTrainingData("non-finite values"), 400, "invalid_training_data"),
        (.tooFewRepositories(2), 422, "too_few_repositories"),
        (.wrongDimension("batch has 3 token values, expected 2 × 16"), 400, "wrong_dimension"),
        (.invalidBatch("SmoothL1 takes no extra negatives"), 400, "invalid_batch"),
        (.invalidArgument("retrieval: a true index is outside the database"), 400, "invalid"),
        (.diverged(step: 3, loss: .nan), 422, "training_diverged"),
        (.checkpointMissing("no checkpoint at /x (config.json missing)"), 404, "checkpoint_missing"),
        (.invalidCheckpoint("optimizer state lacks its step"), 422, "invalid_checkpoint"),
        (.checkpointDataMismatch(path: "/x"), 409, "checkpoint_data_mismatch"),
    ]

    @Test func callersFaultsAreNot500s() {
        for (error, status, code) in Self.cases {
            #expect(error.category.isCallerFault, "\(error)")
            let api = APIError(error)
            #expect(api.status == status && api.code == code && api.message == error.description, "\(api)")
        }
        // Only a failed checkpoint write is ours.
        #expect(APIError(TrainingError.writeFailed("disk full")).status == 500)
    }

    @Test func realFailuresThrowTheirCase() throws {
        var c = TrainingConfig(model: ModelConfig(kind: .mlp, inputDim: 16, outputDim: 16))
        c.epochs = 0
        do { try c.validate(); Issue.record("epochs 0 accepted") }
        catch let e as TrainingError { #expect(e == .invalidTrainingConfig("epochs must be at least 1")) }
        let dir = try makeTemporaryDirectory("training-err")
        defer { removeTemporaryDirectory(dir) }
        #expect(throws: TrainingError.checkpointMissing("no checkpoint at \(dir.path) (config.json missing)")) {
            try Trainer.resume(from: dir, data: try syntheticData(count: 60))
        }
        try Data("{}".utf8).write(to: dir.appendingPathComponent("config.json"))
        do { _ = try Trainer.resume(from: dir, data: try syntheticData(count: 60)); Issue.record("an empty manifest resumed") }
        catch let e as TrainingError { #expect(e.code == "invalid_checkpoint" && e.category == .unprocessable, "\(e)") }
    }
}
