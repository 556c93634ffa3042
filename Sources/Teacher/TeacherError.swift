import Foundation

/// Errors thrown while loading or running a teacher model. Every bad input throws one of these.
///
/// ```swift
/// do { _ = try BertModel.load(directory: url) }
/// catch let error as TeacherError { print(error.description) }
/// ```
public enum TeacherError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file the model folder must contain is missing.
    case missingFile(String)
    /// `config.json` describes an architecture this module cannot run.
    case unsupportedArchitecture(String)
    /// `config.json` is unreadable or has missing / invalid fields.
    case invalidConfig(String)
    /// `tokenizer.json` / `vocab.txt` is unreadable or unsupported.
    case invalidTokenizer(String)
    /// A safetensors file (or its shard index) is malformed.
    case invalidSafetensors(file: String, reason: String)
    /// A GGUF file is malformed (see `GGUFProblem`).
    case invalidGGUF(file: String, problem: GGUFProblem)
    /// A metadata key the model needs is absent, or of another type.
    case missingMetadata(key: String, expected: String)
    /// A tensor the model needs is absent from the weights.
    case missingTensor(String)
    /// A tensor has the wrong shape for the config.
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    /// A tensor has a dtype this module cannot convert to Float32.
    case unsupportedDType(tensor: String, dtype: String)
    /// A model's Float32 weights (`bytes`) would not fit in the memory this process may use (`limit`).
    case modelTooLarge(name: String, bytes: Int, limit: Int)
    /// A caller passed bad arguments (layer out of range, empty batch, token id out of vocabulary, …).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .missingFile(let f): return "missing model file: \(f)"
        case .unsupportedArchitecture(let a): return "unsupported model architecture: \(a)"
        case .invalidConfig(let r): return "invalid config.json: \(r)"
        case .invalidTokenizer(let r): return "invalid tokenizer: \(r)"
        case .invalidSafetensors(let f, let r): return "invalid safetensors file \(f): \(r)"
        case .invalidGGUF(let f, let p): return "invalid GGUF file \(f): \(p)"
        case .missingMetadata(let k, let e): return "missing metadata: \(k) (\(e))"
        case .missingTensor(let t): return "missing tensor: \(t)"
        case .shapeMismatch(let t, let e, let f): return "tensor \(t) has shape \(f), expected \(e)"
        case .unsupportedDType(let t, let d): return "tensor \(t) has unsupported dtype \(d)"
        case .invalidArgument(let r): return "invalid argument: \(r)"
        case .modelTooLarge(let n, let b, let l):
            let gib = { (x: Int) in String(format: "%.2f GiB", Double(x) / 1_073_741_824) }
            return "model \(n) needs \(gib(b)) of Float32 weights; at most \(gib(l)) of this machine's memory may be used"
        }
    }
}
