// Owned by the Training work; replaced by its benchmark.
func benchTraining(_ args: [String]) async throws {
    print("_training benchmark not written yet_")
}
