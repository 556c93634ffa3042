import Core

/// How teacher failures reach clients: a model folder that does not load (missing or malformed
/// files, an architecture we cannot run) is `bad_model` (unprocessable); bad arguments (a layer
/// out of range, an empty batch, a sequence too long) are `invalid_parameter` (invalid input); a model
/// too large for this machine's memory is `model_too_large` (unprocessable).
/// Neither is ever a 500.
///
/// ```swift
/// TeacherError.invalidConfig("not a JSON object").code       // "bad_model"
/// TeacherError.invalidArgument("empty batch").category        // .invalidInput
/// ```
extension TeacherError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .missingFile, .unsupportedArchitecture, .invalidConfig, .invalidTokenizer, .invalidSafetensors,
             .invalidGGUF, .missingMetadata, .missingTensor, .shapeMismatch, .unsupportedDType, .modelTooLarge:
            .unprocessable
        case .invalidArgument: .invalidInput
        }
    }

    public var code: String {
        switch self {
        case .missingFile, .unsupportedArchitecture, .invalidConfig, .invalidTokenizer, .invalidSafetensors,
             .invalidGGUF, .missingMetadata, .missingTensor, .shapeMismatch, .unsupportedDType:
            "bad_model"
        case .modelTooLarge: "model_too_large"
        case .invalidArgument: "invalid_parameter"
        }
    }
}
