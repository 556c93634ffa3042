import Foundation

/// A model folder: Hugging Face files (`config.json`, tokenizer, safetensors) of a BERT encoder or
/// of a llama / qwen2 / qwen3 decoder, or exactly one `.gguf` file (a llama / qwen2 / qwen3
/// decoder). The folder's name is the model's name. A GGUF's dequantised weights are cached in the
/// folder's `.swejepa-cache/` (see `DecoderWeightCache`) when it is writable.
///
/// ```swift
/// let folder = try TeacherModelFolder(directory: dataDir.appendingPathComponent("models/smollm2"))
/// let info = try folder.describe()      // family "llama", 30 layers, dim 576, 134,515,008 parameters
/// let model = try folder.load()          // any TeacherModel named "smollm2"
/// ```
public enum TeacherModelFolder: Sendable, Equatable {
    /// A Hugging Face BERT folder.
    case bert(directory: URL)
    /// A Hugging Face decoder folder (`config.json` with `model_type` llama, qwen2 or qwen3).
    case huggingFaceDecoder(directory: URL)
    /// A folder holding one GGUF file.
    case gguf(directory: URL, file: URL)

    /// What a folder holds, read from headers only (no weights converted).
    public struct Description: Sendable, Equatable {
        public var name: String
        /// `bert`, `llama`, `qwen2`, `qwen3`.
        public var family: String
        public var layers: Int
        public var dim: Int
        /// Elements of every tensor in the weight files.
        public var parameters: Int
        /// The weight file whose SHA-256 identifies the model (`model.safetensors`, the index of a
        /// sharded checkpoint, or the `.gguf`).
        public var sourceFile: URL
    }

    /// The weight cache folder inside a model folder.
    public static let cacheFolderName = ".swejepa-cache"

    /// Recognises a folder: `config.json` makes it a Hugging Face folder (a decoder when its
    /// `model_type` is llama, qwen2 or qwen3, else BERT), else exactly one `*.gguf` file. Anything else
    /// is `missingFile` (the folder does not exist or holds neither) or `invalidConfig` (several GGUFs).
    public init(directory: URL) throws {
        let fm = FileManager.default
        let config = directory.appendingPathComponent("config.json")
        if fm.fileExists(atPath: config.path) {
            let type = (try? Data(contentsOf: config)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["model_type"]
            if let type = type as? String, DecoderConfig.Architecture(rawValue: type) != nil {
                self = .huggingFaceDecoder(directory: directory)
            } else {
                self = .bert(directory: directory)
            }
            return
        }
        let names = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
        let ggufs = names.filter { $0.lowercased().hasSuffix(".gguf") && !$0.hasPrefix(".") }.sorted()
        guard let first = ggufs.first else {
            throw TeacherError.missingFile("config.json (a Hugging Face BERT folder) or one .gguf file")
        }
        guard ggufs.count == 1 else {
            throw TeacherError.invalidConfig("\(ggufs.count) .gguf files in one model folder (\(ggufs.joined(separator: ", "))); keep one")
        }
        self = .gguf(directory: directory, file: directory.appendingPathComponent(first))
    }

    public var directory: URL {
        switch self {
        case .bert(let d), .huggingFaceDecoder(let d), .gguf(let d, _): d
        }
    }

    /// The model's name: the folder's last path component.
    public var name: String { directory.lastPathComponent }

    /// Family, size and source file from the config and the weight headers.
    public func describe() throws -> Description {
        switch self {
        case .bert(let dir):
            let config = try BertConfig(contentsOf: dir.appendingPathComponent("config.json"))
            let weights = try SafeTensorWeights(directory: dir)
            let parameters = weights.files.reduce(0) { $0 + $1.tensors.values.reduce(0) { $0 + $1.elementCount } }
            let single = dir.appendingPathComponent("model.safetensors")
            let source = FileManager.default.fileExists(atPath: single.path) ? single : dir.appendingPathComponent("model.safetensors.index.json")
            return Description(name: name, family: config.modelType, layers: config.numHiddenLayers, dim: config.hiddenSize,
                               parameters: parameters, sourceFile: source)
        case .huggingFaceDecoder(let dir):
            let file = try DecoderConfig.HuggingFaceFile(contentsOf: dir.appendingPathComponent("config.json"))
            let weights = try SafeTensorWeights(directory: dir)
            guard let embed = weights.info("model.embed_tokens.weight") else { throw TeacherError.missingTensor("model.embed_tokens.weight") }
            let config = try DecoderConfig(huggingFace: file, vocabSize: embed.shape.first ?? 0)
            let parameters = weights.files.reduce(0) { $0 + $1.tensors.values.reduce(0) { $0 + $1.elementCount } }
            let single = dir.appendingPathComponent("model.safetensors")
            let source = FileManager.default.fileExists(atPath: single.path) ? single : dir.appendingPathComponent("model.safetensors.index.json")
            return Description(name: name, family: config.architecture.rawValue, layers: config.layerCount, dim: config.hiddenSize,
                               parameters: parameters, sourceFile: source)
        case .gguf(_, let file):
            let gguf = try GGUFFile(path: file.path)
            let config = try DecoderConfig(gguf: gguf)
            return Description(name: name, family: config.architecture.rawValue, layers: config.layerCount, dim: config.hiddenSize,
                               parameters: gguf.tensors.reduce(0) { $0 + $1.elementCount }, sourceFile: file)
        }
    }

    /// Loads the model under the folder's name. A decoder whose Float32 weights exceed `memoryLimit`
    /// (default `DecoderModel.defaultMemoryLimit`) is `modelTooLarge`, refused before any conversion.
    /// A GGUF's weights come from the folder's weight cache when it is current, else are dequantised
    /// and cached there (best-effort).
    public func load(memoryLimit: Int? = nil) throws -> any TeacherModel {
        switch self {
        case .bert(let dir): try BertModel.load(directory: dir)
        case .huggingFaceDecoder(let dir): try DecoderModel.load(directory: dir, name: name, memoryLimit: memoryLimit)
        case .gguf(let dir, let file):
            try DecoderModel.load(path: file.path, name: name, memoryLimit: memoryLimit,
                                  cacheDirectory: dir.appendingPathComponent(Self.cacheFolderName))
        }
    }
}
