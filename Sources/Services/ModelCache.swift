import Core
import Foundation
import Synchronization
import Teacher

/// Loaded teacher models, one per folder, shared by jobs and `/v1/embed`.
///
/// ```swift
/// let model = try ModelCache.shared.model(nil, dataDirectory: dir)   // the default teacher
/// model.hiddenSize   // 384 for all-MiniLM-L6-v2
/// ```
public final class ModelCache: Sendable {
    public static let shared = ModelCache()
    public static let defaultModel = "all-MiniLM-L6-v2"
    private let models = Mutex<[String: BertModel]>([:])

    public init() {}

    /// A model by name (a folder under `DATA/models/`) or by absolute path.
    public func model(_ nameOrPath: String?, dataDirectory: URL) throws -> BertModel {
        let dir = Self.resolve(nameOrPath, dataDirectory: dataDirectory)
        if let m = models.withLock({ $0[dir.path] }) { return m }
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("config.json").path) else {
            throw APIError.badRequest(
                "no model at \(dir.path) (a Hugging Face BERT folder with config.json, tokenizer.json, model.safetensors); `make model` installs the default",
                code: "unknown_model")
        }
        let m: BertModel
        do { m = try BertModel.load(directory: dir) } catch {
            throw APIError.unprocessable("cannot load the model at \(dir.path): \(error)", code: "bad_model")
        }
        // Two loads racing keep the first stored: every caller then shares one model.
        return models.withLock { cache in
            if let first = cache[dir.path] { return first }
            cache[dir.path] = m
            return m
        }
    }

    /// The folder a model name (or path) means: an absolute or relative path as given, else
    /// `DATA/models/NAME`, else `SWEJEPA_MODEL_DIR` when its last component is `NAME`.
    public static func resolve(_ nameOrPath: String?, dataDirectory: URL) -> URL {
        let name = nameOrPath ?? ProcessInfo.processInfo.environment["SWEJEPA_MODEL"] ?? defaultModel
        if name.hasPrefix("/") || name.hasPrefix(".") { return URL(fileURLWithPath: name).standardizedFileURL }
        let local = dataDirectory.appendingPathComponent("models").appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: local.path) { return local }
        if let dir = ProcessInfo.processInfo.environment["SWEJEPA_MODEL_DIR"], URL(fileURLWithPath: dir).lastPathComponent == name {
            return URL(fileURLWithPath: dir)
        }
        return local
    }
}
