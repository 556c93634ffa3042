import Core
import Foundation

/// Where train jobs keep their checkpoints: `DATA/checkpoints/job-ID`, each with the trainer's
/// `config.json` + weights and a `job.json` (`CheckpointInfo`) naming the spaces it was trained on.
///
/// ```swift
/// let dir = Checkpoints.directory(dataDirectory, job: 7)      // DATA/checkpoints/job-7
/// let info = CheckpointInfo.read(dir)                         // input/target/output spaces
/// ```
public enum Checkpoints {
    /// The job type whose results are checkpoints.
    public static let trainJobType = "train"

    /// `DATA/checkpoints`, where every train job keeps its checkpoint directory.
    public static func root(_ dataDirectory: URL) -> URL {
        dataDirectory.appendingPathComponent("checkpoints", isDirectory: true)
    }

    public static func directory(_ dataDirectory: URL, job: Int64) -> URL {
        root(dataDirectory).appendingPathComponent("job-\(job)", isDirectory: true)
    }

    /// `directory(_:job:)` relative to the data directory (`checkpoints/job-7`): what job results
    /// and logs show, so clients never see the server's absolute paths.
    public static func relativePath(job: Int64) -> String { "checkpoints/job-\(job)" }

    /// A checkpoint directory as a job result records it: relative to the data directory (absolute
    /// in results written before paths were shown relative).
    public static func resolve(_ recorded: String, dataDirectory: URL) -> URL {
        recorded.hasPrefix("/") ? URL(fileURLWithPath: recorded, isDirectory: true)
            : dataDirectory.appendingPathComponent(recorded, isDirectory: true)
    }
}

/// What a checkpoint directory was trained on (`job.json` beside the trainer's `config.json`), so
/// `POST /v1/predict` can find the input space from a bare checkpoint.
public struct CheckpointInfo: Codable, Sendable, Equatable {
    public static let fileName = "job.json"
    public var jobID: Int64
    public var inputSpace: String
    public var inputKind: String
    public var targetSpace: String
    public var outputSpace: String
    /// The teacher model and layer of the input space (for predictions from signature texts).
    public var model: String
    public var layer: Int?

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", inputSpace = "input_space", inputKind = "input_kind", targetSpace = "target_space"
        case outputSpace = "output_space", model, layer
    }

    public init(jobID: Int64, inputSpace: String, inputKind: String, targetSpace: String, outputSpace: String, model: String, layer: Int?) {
        self.jobID = jobID
        self.inputSpace = inputSpace
        self.inputKind = inputKind
        self.targetSpace = targetSpace
        self.outputSpace = outputSpace
        self.model = model
        self.layer = layer
    }

    public func write(to dir: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: dir.appendingPathComponent(Self.fileName))
    }

    public static func read(_ dir: URL) -> CheckpointInfo? {
        guard let data = try? Data(contentsOf: dir.appendingPathComponent(fileName)) else { return nil }
        return try? JSONDecoder().decode(CheckpointInfo.self, from: data)
    }
}
