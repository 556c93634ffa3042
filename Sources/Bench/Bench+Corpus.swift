// Owned by the Corpus work; replaced by its benchmark.
func benchCorpus(_ args: [String]) async throws {
    print("_corpus benchmark not written yet_")
}
