import Core
import Foundation
import Teacher

/// Loaded teacher models, one per folder, shared by jobs and `/v1/embed`.
public final class ModelCache: @unchecked Sendable {
    public static let shared = ModelCache()
    public static let defaultModel = "all-MiniLM-L6-v2"
    private let lock = NSLock()
    private var models: [String: BertModel] = [:]

    /// A model by name (a folder under `DATA/models/`) or by absolute path.
    public func model(_ nameOrPath: String?, dataDirectory: URL) throws -> BertModel {
        let dir = Self.resolve(nameOrPath, dataDirectory: dataDirectory)
        lock.lock()
        if let m = models[dir.path] { lock.unlock(); return m }
        lock.unlock()
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("config.json").path) else {
            throw APIError.badRequest(
                "no model at \(dir.path) (a Hugging Face BERT folder with config.json, tokenizer.json, model.safetensors); `make model` installs the default",
                code: "unknown_model")
        }
        let m: BertModel
        do { m = try BertModel.load(directory: dir) } catch {
            throw APIError.unprocessable("cannot load the model at \(dir.path): \(error)", code: "bad_model")
        }
        lock.lock(); models[dir.path] = m; lock.unlock()
        return m
    }

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

