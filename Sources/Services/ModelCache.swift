import Core
import Foundation
import Teacher

/// Loaded teacher models, one per folder, shared by jobs and `/v1/embed`.
///
/// A request names a model, never a path: a folder under `DATA/models/` (or the folder
/// `SWEJEPA_MODEL_DIR` points to, when its last component is that name) holding Hugging Face BERT
/// files or one `.gguf` decoder (`TeacherModelFolder`). Paths are refused before anything is looked
/// up, and no message names a server path. A decoder larger than the memory limit is a 422
/// `model_too_large` naming its size.
///
/// ```swift
/// let model = try ModelCache.shared.model(nil, dataDirectory: dir)   // the default teacher
/// model.hiddenSize   // 384 for all-MiniLM-L6-v2
/// try ModelCache.shared.model("smollm2", dataDirectory: dir).family   // "llama" (DATA/models/smollm2/*.gguf)
/// ```
public final class ModelCache: Sendable {
    /// Limit from `SWEJEPA_MODEL_MEMORY_BYTES` when set (else three quarters of physical memory).
    public static let shared = ModelCache(memoryLimit: ProcessInfo.processInfo.environment["SWEJEPA_MODEL_MEMORY_BYTES"].flatMap { Int($0) })
    public static let defaultModel = "all-MiniLM-L6-v2"
    private let models = Mutex<[String: any TeacherModel]>([:])
    /// SHA-256 of source files by path, size and modification date (`ModelCache+Catalog`).
    let digests = Mutex<[String: String]>([:])
    /// Bytes of Float32 weights a decoder may take (nil: `DecoderModel.defaultMemoryLimit`).
    public let memoryLimit: Int?

    public init(memoryLimit: Int? = nil) { self.memoryLimit = memoryLimit }

    /// A model by name (a folder under `DATA/models/`); nil: the default teacher.
    public func model(_ name: String?, dataDirectory: URL) throws -> any TeacherModel {
        let dir = try Self.resolve(name, dataDirectory: dataDirectory)
        let label = Self.label(name)
        // One load per name and real folder: names linked to one folder share it, each model keeping its name.
        let key = label + "|" + dir.resolvingSymlinksInPath().path
        if let m = models.withLock({ $0[key] }) { return m }
        let folder: TeacherModelFolder
        do { folder = try TeacherModelFolder(directory: dir) } catch TeacherError.missingFile {
            throw APIError.unprocessable(  // a well-formed name the server has no folder for: 422
                "no model named '\(label)' (a Hugging Face BERT folder with config.json, tokenizer.json, model.safetensors, or a folder with one .gguf file, under the server's models directory); `make model` installs the default",
                code: "unknown_model")
        } catch {
            throw APIError.unprocessable("cannot load model '\(label)': \(Self.redacted(error, dir: dir, label: label))", code: "bad_model")
        }
        let m: any TeacherModel
        do { m = try folder.load(memoryLimit: memoryLimit) } catch let error as TeacherError {
            let code = if case .modelTooLarge = error { "model_too_large" } else { "bad_model" }
            throw APIError.unprocessable("cannot load model '\(label)': \(Self.redacted(error, dir: dir, label: label))", code: code)
        } catch {
            throw APIError.unprocessable("cannot load model '\(label)': \(Self.redacted(error, dir: dir, label: label))", code: "bad_model")
        }
        // Two loads racing keep the first stored: every caller then shares one model.
        return models.withLock { cache in
            if let first = cache[key] { return first }
            cache[key] = m
            return m
        }
    }

    /// An error's text without the server's paths.
    static func redacted(_ error: any Error, dir: URL, label: String) -> String {
        "\(error)".replacingOccurrences(of: dir.path + "/", with: "").replacingOccurrences(of: dir.path, with: label)
    }

    /// The name a message may show: the requested name, or the default's last path component.
    static func label(_ name: String?) -> String {
        name ?? URL(fileURLWithPath: ProcessInfo.processInfo.environment["SWEJEPA_MODEL"] ?? defaultModel).lastPathComponent
    }

    /// Whether `name` is a model name a request may give: 1–200 characters of A–Z a–z 0–9 - _ . in
    /// at most two `/`-separated parts (`org/model`), none of them `.`, `..` or starting with `.`.
    public static func isValidName(_ name: String) -> Bool {
        guard (1...200).contains(name.utf8.count) else { return false }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.first != "." && part.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f || c == 0x2e
            }
        }
    }

    /// The folder a model name means: `DATA/models/NAME`, else `SWEJEPA_MODEL_DIR` when its last
    /// component is `NAME`. A name that is a path is a 400 `invalid_model` (nothing is looked up).
    /// nil: `SWEJEPA_MODEL` (set by the operator, so it may be a path) or the default teacher.
    public static func resolve(_ name: String?, dataDirectory: URL) throws -> URL {
        let chosen: String
        if let name {
            guard isValidName(name) else {
                throw APIError.badRequest("model must be the name of a folder in the server's models directory (e.g. \(defaultModel)), not a path",
                                          code: "invalid_model")
            }
            chosen = name
        } else {
            chosen = ProcessInfo.processInfo.environment["SWEJEPA_MODEL"] ?? defaultModel
            if chosen.hasPrefix("/") { return URL(fileURLWithPath: chosen).standardizedFileURL }
        }
        let local = dataDirectory.appendingPathComponent("models").appendingPathComponent(chosen)
        if FileManager.default.fileExists(atPath: local.path) { return local }
        if let dir = ProcessInfo.processInfo.environment["SWEJEPA_MODEL_DIR"], URL(fileURLWithPath: dir).lastPathComponent == chosen {
            return URL(fileURLWithPath: dir)
        }
        return local
    }
}
