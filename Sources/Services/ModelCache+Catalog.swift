import Core
import Foundation
import Teacher

/// One model a server can run (`GET /v1/models`).
public struct ModelListing: Sendable, Equatable {
    /// The name requests give (`model`), and the `MODEL` of space names.
    public var name: String
    /// `bert`, `llama`, `qwen2` or `qwen3`.
    public var family: String
    /// Blocks N: hidden states 0 … N.
    public var layers: Int
    public var dim: Int
    public var parameters: Int
    /// The weight file's name inside the model's folder.
    public var file: String
    public var fileBytes: Int
    /// SHA-256 of that file, as `sha256sum` prints it.
    public var sha256: String
    /// Whether requests naming no model use it.
    public var isDefault: Bool
}

extension ModelCache {
    /// The default teacher, then every model folder under `DATA/models` (`NAME` or `ORG/NAME`), by name.
    /// Read from headers (nothing loaded); a folder that is no model, or whose files do not parse, is
    /// left out. The SHA-256 of each source file is computed once per file (path, size, modification
    /// date) and kept in memory; hashing runs on `Compute`.
    ///
    /// ```swift
    /// let models = try await ModelCache.shared.catalog(dataDirectory: dir)
    /// models.map(\.name)   // ["all-MiniLM-L6-v2", "smollm2"]
    /// ```
    public func catalog(dataDirectory: URL) async throws -> [ModelListing] {
        let defaultDir = try Self.resolve(nil, dataDirectory: dataDirectory).standardizedFileURL
        var folders: [(name: String, dir: URL)] = [(Self.label(nil), defaultDir)]
        let root = dataDirectory.appendingPathComponent("models")
        let fm = FileManager.default
        for entry in ((try? fm.contentsOfDirectory(atPath: root.path)) ?? []).sorted() where Self.isValidName(entry) {
            let dir = root.appendingPathComponent(entry)
            if (try? TeacherModelFolder(directory: dir)) != nil {
                folders.append((entry, dir))
                continue
            }
            for sub in ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() where Self.isValidName(entry + "/" + sub) {
                folders.append((entry + "/" + sub, dir.appendingPathComponent(sub)))
            }
        }
        var seen = Set<String>(), out: [ModelListing] = []
        for (name, dir) in folders where seen.insert(name).inserted {
            guard let folder = try? TeacherModelFolder(directory: dir), let info = try? folder.describe() else { continue }
            let source = info.sourceFile.resolvingSymlinksInPath()  // a linked file: the size of what it points to
            guard let attributes = try? fm.attributesOfItem(atPath: source.path),
                  let bytes = (attributes[.size] as? NSNumber)?.intValue else { continue }
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let key = "\(source.path)|\(bytes)|\(modified)"
            let digest: String
            if let known = digests.withLock({ $0[key] }) {
                digest = known
            } else {
                digest = try await Compute.run { try SHA256.hex(fileAt: source) }
                digests.withLock { $0[key] = digest }
            }
            out.append(ModelListing(name: name, family: info.family, layers: info.layers, dim: info.dim,
                                    parameters: info.parameters, file: info.sourceFile.lastPathComponent, fileBytes: bytes,
                                    sha256: digest, isDefault: out.isEmpty && name == Self.label(nil)))
        }
        return out
    }
}
