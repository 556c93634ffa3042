import ArgumentParser
import Core
import Foundation

struct Embed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Embed the corpus with the teacher (one space per layer and kind) on a running server.",
        discussion: """
            Kinds: sig_tokens (per-token states of the signature: the student's input), sig_mean (their mean, \
            a no-training baseline), body_mean (signature + body pass, mean over the body's tokens: the target), \
            body_only_mean (body alone), body_tokens (the states of every body token of the body_mean pass: \
            large, ~2 bytes × dim per body token as float16, so only when named). Spaces are named \
            MODEL.L<layer>.<kind>; new body_tokens spaces are float16, the others float32 (--dtype overrides; \
            an existing space keeps its dtype). Resumable: functions that already have fresh vectors are skipped.

            Example:
              swejepa embed --layers 3
              swejepa embed --layers all --kinds body_mean --repo requests
              swejepa embed --layers 3 --kinds body_mean,body_tokens     # one pass serves both
              swejepa embed --model smollm2 --layers 15    # DATA/models/smollm2/ holds one .gguf
            """)

    @OptionGroup var server: ServerOptions
    @Option(help: "Layers: comma-separated numbers (0 = embeddings output) or 'all'.") var layers: String = "3"
    @Option(help: "Kinds (comma-separated); default sig_tokens,sig_mean,body_mean,body_only_mean (body_tokens only when named).") var kinds: String?
    @Option(help: "Storage type of the spaces created: float32 or float16 (default float16 for body_tokens, float32 otherwise).") var dtype: String?
    @Option(help: "Model name: a folder under DATA/models holding BERT files or one .gguf decoder (GET /v1/models lists them).") var model: String?
    @Option(help: "Only functions of this repository.") var repo: String?
    @Flag(help: "Return after queueing instead of following the job.") var noWait = false

    func run() async throws {
        var params: [String: JSONValue] = ["type": "embed"]
        params["layers"] = try ListOption.layers(layers)
        if let kinds { params["kinds"] = .array(kinds.split(separator: ",").map { .string(String($0)) }) }
        if let dtype { params["dtype"] = .string(dtype) }
        if let model { params["model"] = .string(model) }
        if let repo { params["repo"] = .string(repo) }
        try await server.runJob(.object(params), noWait: noWait)
    }
}
