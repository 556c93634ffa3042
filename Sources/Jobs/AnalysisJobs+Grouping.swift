import Core
import Store

/// How cross-validation groups functions so that no group is on both sides of a split.
public enum Grouping: String, CaseIterable, Sendable {
    /// Repository: the probe generalises to unseen repositories.
    case repo
    /// Source file (repository + path): for single-repository corpora such as the standard library.
    case file
    /// Duplicate group (normalised body hash): copies of one function never straddle a split.
    case function

    /// One group key per row.
    func keys(_ data: SpaceData, store: any StoreBackend) async throws -> [String] {
        switch self {
        case .repo: return data.facts.map(\.repo)
        case .function: return data.facts.map(\.bodyHash)
        case .file:
            let summaries = try await store.functionSummaries(ids: data.ids)
            return zip(data.ids, data.facts).map { id, f in f.repo + "\u{0}" + (summaries[id]?.path ?? "") }
        }
    }

    /// A clear job error when there are fewer groups than folds.
    func check(_ keys: [String], folds: Int, space: String) throws {
        let n = Set(keys).count
        guard n < folds else { return }
        let what = ["repo": "repositories", "file": "source files", "function": "distinct function bodies"][rawValue]!
        var hint = "use fewer folds"
        if self == .repo { hint = "use group_by \"file\" (no source file on both sides) or \"function\" (no duplicate group on both sides), or fewer folds" }
        throw APIError.unprocessable("GroupKFold by \(rawValue) with \(folds) folds needs at least \(folds) \(what); space '\(space)' has \(n); \(hint)",
                                     code: "too_few_groups")
    }
}
