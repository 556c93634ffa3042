import Analysis
import Core
import Foundation
import Store

/// `neighbours {space, k?, exclude?, min_repositories?, families?}`: every function's top-k
/// neighbours in a mean space by exact brute force (`NeighbourSearch.topK`, cosine for cosine
/// spaces, inner product for `ip` spaces), excluding candidates from the function's own repository
/// (`exclude: "repo"`, default) or only the function itself (`exclude: "self"`, for a
/// single-repository corpus). The lists replace the space's stored ones atomically
/// (`GET /v1/spaces/{name}/neighbours`); zero vectors get no list.
///
/// Result: `NeighbourAnalysis.summarize` with duplicate groups from the body hash —
/// `{"space", "k", "exclude", "functions", "skipped_zero", "pairs", "duplicate_pairs",
/// "duplicate_share", "mutual_pairs", "min_repositories", "family_count", "families": [{"size",
/// "repositories": [names], "members": [{"id", "repo", "path", "qualified_name"}]}], "stored_rows"}`
/// with the first `families` (default 20) template families spelled out.
public enum NeighboursJob {
    /// `neighbours`' result (see the type's documentation).
    struct Result: Encodable, Sendable {
        struct Member: Encodable, Sendable {
            var id: Int64
            var repo: String
            var path: String?
            var qualifiedName: String?
            enum CodingKeys: String, CodingKey { case id, repo, path, qualifiedName = "qualified_name" }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(id, forKey: .id); try c.encode(repo, forKey: .repo)
                try c.encode(path, forKey: .path); try c.encode(qualifiedName, forKey: .qualifiedName)  // null when gone
            }
        }
        struct Family: Encodable, Sendable {
            var size: Int
            var repositories: [String]
            var members: [Member]
        }
        var space: String
        var k: Int
        var exclude: String
        var metric: String
        var functions: Int
        var repositories: Int
        var duplicateGroups: Int
        var skippedZero: Int
        var pairs: Int
        var duplicatePairs: Int
        var duplicateShare: Double
        var mutualPairs: Int
        var minRepositories: Int
        var familyCount: Int
        var families: [Family]
        var storedRows: Int
        var seconds: Double

        enum CodingKeys: String, CodingKey {
            case space, k, exclude, metric, functions, repositories, duplicateGroups = "duplicate_groups", skippedZero = "skipped_zero"
            case pairs, duplicatePairs = "duplicate_pairs", duplicateShare = "duplicate_share", mutualPairs = "mutual_pairs"
            case minRepositories = "min_repositories", familyCount = "family_count", families, storedRows = "stored_rows", seconds
        }
    }

    @Sendable static func run(_ ctx: JobContext, _ p: Params) async throws -> Result {
        let started = Date()
        let spaceName = p.space, k = p.k, exclude = p.exclude.rawValue, minRepos = p.minRepositories, detail = p.families

        await ctx.progress(0, "loading \(spaceName)")
        var data = try await SpaceData.load(ctx.store, space: spaceName, job: "neighbours")
        let cosine: Bool
        switch data.space.metric {
        case .cosine: cosine = true
        case .ip: cosine = false
        case .l2:
            throw APIError.unprocessable("space '\(spaceName)' uses the l2 metric; the neighbours job ranks by cosine or inner product",
                                         code: "unsupported_metric")
        }
        var skippedZero = 0
        if cosine {
            skippedZero = data.dropZeroRows()
            if skippedZero > 0 {
                await ctx.log("\(skippedZero) zero vectors have no direction and get no neighbours", level: .warning)
            }
        }
        guard data.count >= 2 else {
            throw APIError.unprocessable("space '\(spaceName)' has \(data.count) usable vectors; neighbours need at least 2", code: "too_few_vectors")
        }
        try ctx.checkCancelled()

        // Repository and duplicate-group indices per row.
        var repoIndex = [String: Int]()
        let repos = data.facts.map { f -> Int in
            if let i = repoIndex[f.repo] { return i }
            repoIndex[f.repo] = repoIndex.count
            return repoIndex.count - 1
        }
        var hashCount = [String: Int]()
        for f in data.facts { hashCount[f.bodyHash, default: 0] += 1 }
        var groupIndex = [String: Int]()
        let duplicateGroups = data.facts.map { f -> Int? in
            guard hashCount[f.bodyHash]! > 1 else { return nil }
            if let g = groupIndex[f.bodyHash] { return g }
            groupIndex[f.bodyHash] = groupIndex.count
            return groupIndex.count - 1
        }
        if exclude == "repo" && repoIndex.count < 2 {
            throw APIError.unprocessable("space '\(spaceName)' holds functions of one repository, so there are no cross-repository neighbours; use exclude \"self\"",
                                         code: "single_repository")
        }
        let exclusion = exclude == "repo" ? repos : Array(0..<data.count)

        await ctx.progress(0.05, "top-\(k) of \(data.count) functions")
        let vectors = data.vectors, n = data.count, d = data.dims
        let t0 = Date()
        let (lists, summary) = try await ctx.compute {
            let lists = try NeighbourSearch.topK(vectors: vectors, count: n, dims: d, k: k, repos: exclusion, cosine: cosine)
            try cancelCheck(ctx)
            let summary = try NeighbourAnalysis.summarize(lists, repos: repos, duplicateGroups: duplicateGroups, minRepositories: minRepos)
            return (lists, summary)
        }
        await ctx.log(String(format: "searched %d × %d in %.1f s", n, d, Date().timeIntervalSince(t0)))
        try ctx.checkCancelled()

        await ctx.progress(0.8, "storing \(n) lists")
        var rows = [NeighbourRow]()
        rows.reserveCapacity(n * k)
        for i in 0..<n {
            for r in 0..<k {
                let j = Int(lists.ids[i * k + r])
                guard j >= 0 else { continue }
                rows.append(NeighbourRow(functionID: data.ids[i], rank: r, neighbourID: data.ids[j], score: Double(lists.scores[i * k + r])))
            }
        }
        try await ctx.store.replaceNeighbours(run: NeighbourRun(space: spaceName, jobID: ctx.job.id, k: k, exclude: exclude, functions: n), rows)

        // The first families, spelled out with names.
        let shown = Array(summary.families.prefix(detail))
        let memberIDs = shown.flatMap { $0.members.map { data.ids[$0] } }
        let names = try await ctx.store.functionSummaries(ids: memberIDs)
        let repoNames = repoIndex.sorted { $0.value < $1.value }.map(\.key)
        let families = shown.map { fam in
            Result.Family(size: fam.members.count, repositories: fam.repositories.map { repoNames[$0] },
                          members: fam.members.map { m in
                              let id = data.ids[m], s = names[id]
                              return Result.Member(id: id, repo: data.facts[m].repo, path: s?.path, qualifiedName: s?.qualifiedName)
                          })
        }
        await ctx.log(String(format: "%d pairs, %.1f%% within a duplicate group, %d mutual pairs, %d template families",
                             summary.pairs, 100 * summary.duplicateShare, summary.mutualPairs, summary.families.count))
        return Result(space: spaceName, k: k, exclude: exclude, metric: data.space.metric.rawValue, functions: n,
                      repositories: repoIndex.count, duplicateGroups: groupIndex.count, skippedZero: skippedZero,
                      pairs: summary.pairs, duplicatePairs: summary.duplicatePairs, duplicateShare: summary.duplicateShare,
                      mutualPairs: summary.mutualPairs, minRepositories: minRepos, familyCount: summary.families.count,
                      families: families, storedRows: rows.count, seconds: Date().timeIntervalSince(started))
    }
}
