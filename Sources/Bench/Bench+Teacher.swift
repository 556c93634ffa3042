// Owned by the Teacher work; replaced by its benchmark.
func benchTeacher(_ args: [String]) async throws {
    print("_teacher benchmark not written yet_")
}
