// Owned by the Search work; replaced by its benchmark.
func benchSearch(_ args: [String]) async throws {
    print("_search benchmark not written yet_")
}
