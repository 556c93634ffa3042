import Analysis
import Core
import Foundation
import Store

/// `neighbours {space, k?, exclude?, min_repositories?, families?, linkage?, min_similarity?,
/// similarity_quantile?, examples?}`: every function's top-k
/// neighbours in a mean space by exact brute force (`NeighbourSearch.topK`, cosine for cosine
/// spaces, inner product for `ip` spaces), excluding candidates from the function's own repository
/// (`exclude: "repo"`, default) or only the function itself (`exclude: "self"`, for a
/// single-repository corpus). The lists replace the space's stored ones atomically
/// (`GET /v1/spaces/{name}/neighbours`); zero vectors get no list.
///
/// Template families (`FamilyRule`): by default average linkage over the mutual-kNN graph at
/// τ = the `similarity_quantile` (0.999) of the similarity of random pairs from different
/// repositories (`NeighbourSearch.pairQuantile`: all pairs up to a million, else a seeded sample of
/// a million) — a family's members are on average as alike as only 0.1 % of unrelated pairs are —
/// or τ = `min_similarity`; `linkage: "single"` without a threshold is the first rule (components of
/// the mutual graph).
///
/// Result: `NeighbourAnalysis.summarize` with duplicate groups from the body hash —
/// `{"space", "k", "exclude", "functions", "skipped_zero", "pairs", "duplicate_pairs",
/// "duplicate_share", "mutual_pairs", "min_repositories", "linkage", "threshold": {"value",
/// "source", "quantile", "pairs", "exact"}, "family_count", "families": [{"size", "repositories":
/// [names], "repository_count", "mean_similarity", "members": [{"id", "repo", "path",
/// "qualified_name"}], "examples": [{…, "signature"}]}], "stored_rows"}` with the first `families`
/// (default 20) template families spelled out, each with its `examples` (5) most central members.
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
        struct Example: Encodable, Sendable {
            var id: Int64
            var repo: String
            var path: String?
            var qualifiedName: String?
            var signature: String?
            enum CodingKeys: String, CodingKey { case id, repo, path, qualifiedName = "qualified_name", signature }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(id, forKey: .id); try c.encode(repo, forKey: .repo)
                try c.encode(path, forKey: .path); try c.encode(qualifiedName, forKey: .qualifiedName)
                try c.encode(signature, forKey: .signature)
            }
        }
        struct Family: Encodable, Sendable {
            var size: Int
            var repositories: [String]
            var repositoryCount: Int
            var meanSimilarity: Double?
            var members: [Member]
            var examples: [Example]
            enum CodingKeys: String, CodingKey {
                case size, repositories, repositoryCount = "repository_count", meanSimilarity = "mean_similarity", members, examples
            }
        }
        /// τ and where it came from: `min_similarity`, `similarity_quantile` (with the quantile, the
        /// pairs it was taken over and whether they were all pairs) or `none`.
        struct Threshold: Encodable, Sendable {
            var value: Double?
            var source: String
            var quantile: Double?
            var pairs: Int?
            var exact: Bool?
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(value, forKey: .value); try c.encode(source, forKey: .source)
                try c.encodeIfPresent(quantile, forKey: .quantile); try c.encodeIfPresent(pairs, forKey: .pairs)
                try c.encodeIfPresent(exact, forKey: .exact)
            }
            enum CodingKeys: String, CodingKey { case value, source, quantile, pairs, exact }
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
        var linkage: String
        var threshold: Threshold
        var familyCount: Int
        var families: [Family]
        var storedRows: Int
        var seconds: Double

        enum CodingKeys: String, CodingKey {
            case space, k, exclude, metric, functions, repositories, duplicateGroups = "duplicate_groups", skippedZero = "skipped_zero"
            case pairs, duplicatePairs = "duplicate_pairs", duplicateShare = "duplicate_share", mutualPairs = "mutual_pairs"
            case minRepositories = "min_repositories", linkage, threshold, familyCount = "family_count", families, storedRows = "stored_rows", seconds
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
        let thresholdRule = p.threshold, linkage = p.linkage
        let (lists, summary, threshold) = try await ctx.compute {
            let x = cosine ? try NeighbourSearch.normalised(vectors, count: n, dims: d) : vectors
            let lists = try NeighbourSearch.topK(vectors: x, count: n, dims: d, k: k, repos: exclusion, cosine: false)
            try cancelCheck(ctx)
            let threshold: Result.Threshold
            switch thresholdRule {
            case .none: threshold = Result.Threshold(value: nil, source: "none")
            case .explicit(let t): threshold = Result.Threshold(value: t, source: "min_similarity")
            case .quantile(let q):
                let pq = try NeighbourSearch.pairQuantile(vectors: x, count: n, dims: d, groups: exclusion, quantile: q)
                threshold = Result.Threshold(value: pq.value, source: "similarity_quantile", quantile: q, pairs: pq.pairs, exact: pq.exact)
            }
            try cancelCheck(ctx)
            let summary = try NeighbourAnalysis.summarize(lists, repos: repos, duplicateGroups: duplicateGroups, minRepositories: minRepos,
                                                          rule: FamilyRule(linkage: linkage, minSimilarity: threshold.value), vectors: x)
            return (lists, summary, threshold)
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
                          repositoryCount: fam.repositories.count, meanSimilarity: fam.meanSimilarity,
                          members: fam.members.map { m in
                              let id = data.ids[m], s = names[id]
                              return Result.Member(id: id, repo: data.facts[m].repo, path: s?.path, qualifiedName: s?.qualifiedName)
                          },
                          examples: (fam.central ?? []).prefix(p.examples).map { m in
                              let id = data.ids[m], s = names[id]
                              return Result.Example(id: id, repo: data.facts[m].repo, path: s?.path, qualifiedName: s?.qualifiedName, signature: s?.signature)
                          })
        }
        let tau = threshold.value.map { String(format: "τ %.4f", $0) + " (\(threshold.source))" } ?? "no threshold"
        await ctx.log(String(format: "%d pairs, %.1f%% within a duplicate group, %d mutual pairs, %d template families",
                             summary.pairs, 100 * summary.duplicateShare, summary.mutualPairs, summary.families.count)
                      + " (\(linkage.rawValue) linkage, \(tau))")
        return Result(space: spaceName, k: k, exclude: exclude, metric: data.space.metric.rawValue, functions: n,
                      repositories: repoIndex.count, duplicateGroups: groupIndex.count, skippedZero: skippedZero,
                      pairs: summary.pairs, duplicatePairs: summary.duplicatePairs, duplicateShare: summary.duplicateShare,
                      mutualPairs: summary.mutualPairs, minRepositories: minRepos, linkage: linkage.rawValue,
                      threshold: threshold, familyCount: summary.families.count,
                      families: families, storedRows: rows.count, seconds: Date().timeIntervalSince(started))
    }
}
