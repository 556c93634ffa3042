import Analysis
import Core
import Foundation
import Services
import Store
import Teacher

/// The trivial control feature: log(1 + token count) of each function (`signature + "\n" + body`,
/// the text of the teacher's body pass, untruncated, no special tokens), with the teacher's
/// tokenizer (a BERT folder's WordPiece, a GGUF decoder's byte-level BPE); when no tokenizer can be
/// loaded, log(1 + Unicode scalar count) instead.
enum TrivialFeature {
    private static let cache = Mutex<[String: (any Tokenizer, String)]>([:])

    /// The tokenizer of a model folder (a name under DATA/models, as `ModelCache.resolve` reads it) and
    /// its kind ("WordPiece", "byte-level BPE"); cached. No weights are read.
    static func tokenizer(_ name: String, dataDirectory: URL) throws -> (any Tokenizer, String) {
        let dir = try ModelCache.resolve(name, dataDirectory: dataDirectory)
        if let t = cache.withLock({ $0[dir.path] }) { return t }
        let t: (any Tokenizer, String)
        switch try TeacherModelFolder(directory: dir) {
        case .bert: t = (try WordPieceTokenizer(directory: dir), "WordPiece")
        case .huggingFaceDecoder: t = (try ByteLevelBPETokenizer(tokenizerJSON: dir.appendingPathComponent("tokenizer.json")), "byte-level BPE")
        case .gguf(_, let file): t = (try ByteLevelBPETokenizer(gguf: GGUFFile(path: file.path)), "byte-level BPE")
        }
        cache.withLock { $0[dir.path] = t }
        return t
    }

    /// (values, description). `explicit` = a tokenizer the caller named (failure to load is an error).
    static func compute(_ ctx: JobContext, ids: [Int64], tokenizer explicit: String?, model: String) async throws -> ([Double], String) {
        var tok: (any Tokenizer)?
        var label = "log1p(characters)"
        if let name = explicit ?? (model.isEmpty ? nil : model) {
            do {
                let (loaded, kind) = try tokenizer(name, dataDirectory: ctx.dataDirectory)
                tok = loaded
                label = "log1p(tokens: \(URL(fileURLWithPath: name).lastPathComponent) \(kind))"
            } catch {
                if explicit != nil {
                    throw APIError.unprocessable("cannot load the tokenizer '\(name)' for the trivial control: \(error)", code: "unknown_model")
                }
                await ctx.log("no tokenizer for model '\(name)' (\(error)); the trivial control uses character counts", level: .warning)
            }
        } else {
            await ctx.log("the space names no model; the trivial control uses character counts", level: .warning)
        }
        let texts = try await ctx.store.functionTexts(ids: ids)
        guard texts.count == ids.count else {
            throw APIError.conflict("\(ids.count - texts.count) functions vanished while the job ran; run it again", code: "functions_changed")
        }
        let t = tok
        let values = try await ctx.compute {
            texts.map { f -> Double in
                let text = FunctionEmbedder.joinedText(FunctionText(signature: f.signature, body: f.body)).text
                let n = t.map { $0.encode(text, maxLength: nil, addSpecialTokens: false).count } ?? text.unicodeScalars.count
                return Foundation.log1p(Double(n))
            }
        }
        return (values, label)
    }
}
