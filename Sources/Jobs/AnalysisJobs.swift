import Analysis
import Core
import Foundation
import Store
import Teacher

/// The seed's Phase 0 questions as job types, wiring the pure `Analysis` module to the store:
///
/// - `probe` (`ProbeJob`): linear probes of function properties from a space's vectors, with
///   grouped cross-validation and controls; results stored in `probe_results` and returned.
/// - `layer_sweep` (`LayerSweepJob`): per layer, anisotropy, effective rank and probe R² of LOC and
///   complexity, as one table (the job's result; no table of its own).
/// - `neighbours` (`NeighboursJob`): every function's top-k cross-repository neighbours, stored in
///   `neighbours`, with duplicate-group and template-family summaries.
///
/// ```swift
/// let runner = JobRunner(store: store, dataDirectory: dir)
/// AnalysisJobs.register(on: runner)
/// let job = try await runner.submit(type: "probe", params: ["space": "all-MiniLM-L6-v2.L3.body_mean",
///                                                          "targets": ["loc", "return_category"]])
/// ```
public enum AnalysisJobs {
    public static func register(on runner: JobRunner) {
        runner.register("probe", validate: ProbeJob.validate) { ctx in try await ProbeJob.run(ctx) }
        runner.register("layer_sweep", validate: LayerSweepJob.validate) { ctx in try await LayerSweepJob.run(ctx) }
        runner.register("neighbours", validate: NeighboursJob.validate) { ctx in try await NeighboursJob.run(ctx) }
    }
}

// MARK: - Parameters

/// Small checked readers of job params; every failure is a 400 naming the field.
enum Params {
    static func bad(_ message: String) -> APIError { APIError.badRequest(message, code: "invalid_parameter") }

    static func object(_ p: JSONValue, _ job: String) throws -> [String: JSONValue] {
        guard let o = p.objectValue else { throw bad("\(job) params must be a JSON object") }
        return o
    }

    static func string(_ p: JSONValue, _ key: String, required job: String) throws -> String {
        guard let v = p[key] else { throw bad("\(job) needs '\(key)'") }
        guard let s = v.stringValue, !s.isEmpty else { throw bad("'\(key)' must be a non-empty string") }
        return s
    }

    static func optionalString(_ p: JSONValue, _ key: String) throws -> String? {
        guard let v = p[key], v != .null else { return nil }
        guard let s = v.stringValue, !s.isEmpty else { throw bad("'\(key)' must be a non-empty string") }
        return s
    }

    static func int(_ p: JSONValue, _ key: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let v = p[key], v != .null else { return value }
        guard case .number = v, let n = v.intValue, range.contains(n) else {
            throw bad("'\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound), got \(v.jsonString())")
        }
        return n
    }

    static func optionalInt(_ p: JSONValue, _ key: String, range: ClosedRange<Int>) throws -> Int? {
        guard let v = p[key], v != .null else { return nil }
        return try int(p, key, default: 0, range: range)
    }

    static func seed(_ p: JSONValue) throws -> UInt64 {
        UInt64(try int(p, "seed", default: 0, range: 0...(1 << 53)))
    }

    static func choice(_ p: JSONValue, _ key: String, default value: String, among: [String]) throws -> String {
        guard let v = p[key], v != .null else { return value }
        guard let s = v.stringValue, among.contains(s) else {
            throw bad("'\(key)' must be one of \(among.map { "\"\($0)\"" }.joined(separator: ", ")), got \(v.jsonString())")
        }
        return s
    }

    static func positiveNumber(_ p: JSONValue, _ key: String, default value: Double) throws -> Double {
        guard let v = p[key], v != .null else { return value }
        guard case .number(let x) = v, x.isFinite, x > 0 else { throw bad("'\(key)' must be a positive number, got \(v.jsonString())") }
        return x
    }

    /// The ridge alpha grid: 1…100 positive finite numbers (default `Probe.defaultAlphas`).
    static func alphas(_ p: JSONValue) throws -> [Double] {
        guard let v = p["alphas"], v != .null else { return Probe.defaultAlphas }
        guard let items = v.arrayValue, (1...100).contains(items.count) else {
            throw bad("'alphas' must be a list of 1 to 100 positive numbers")
        }
        return try items.map { item in
            guard case .number(let x) = item, x.isFinite, x > 0 else { throw bad("alpha \(item.jsonString()) is not a positive number") }
            return x
        }
    }

    /// A space name given for a job that needs one vector per function.
    static func meanSpace(_ p: JSONValue, job: String) throws -> String {
        let space = try string(p, "space", required: job)
        if space.hasSuffix("_tokens") {
            throw bad("space '\(space)' holds token matrices; \(job) needs one vector per function (a *_mean space, e.g. \(space.dropLast("_tokens".count))_mean)")
        }
        return space
    }

    /// Rejects keys a job does not know (a typo would otherwise be silently ignored).
    static func onlyKnown(_ p: JSONValue, _ keys: Set<String>, job: String) throws {
        let unknown = try object(p, job).keys.filter { !keys.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw bad("\(job) does not know \(unknown.map { "'\($0)'" }.joined(separator: ", ")); it takes \(keys.sorted().joined(separator: ", "))")
        }
    }
}

// MARK: - Loading a space with its functions' facts

/// A mean space's vectors with the facts of their functions, rows aligned.
struct SpaceData: Sendable {
    var space: SpaceRecord
    var ids: [Int64]
    var vectors: [Float]
    var facts: [FunctionFacts]
    var dims: Int { space.dim }
    var count: Int { ids.count }

    /// Loads every vector of `name` (a space with one vector per function) and its functions' facts;
    /// clear job errors for an unknown or token space.
    static func load(_ store: any Store, space name: String, job: String) async throws -> SpaceData {
        guard let space = try await store.space(named: name) else {
            let known = try await store.spaces().map(\.name).filter { !$0.hasSuffix("_tokens") }.prefix(20)
            throw APIError.notFound("space '\(name)' does not exist\(known.isEmpty ? " (no spaces yet: run an embed job)" : "; spaces: \(known.joined(separator: ", "))")",
                                    code: "unknown_space")
        }
        guard !space.kind.isTokens else {
            throw APIError.badRequest("space '\(name)' holds token matrices; \(job) needs one vector per function", code: "invalid_parameter")
        }
        let batch = try await store.vectors(space: name, ids: nil)
        guard batch.rows.allSatisfy({ $0 == 1 }), batch.values.count == batch.ids.count * space.dim else {
            throw APIError.unprocessable("space '\(name)' does not hold exactly one \(space.dim)-dim vector per function", code: "invalid_space")
        }
        let facts = try await store.functionFacts(ids: batch.ids)
        var out = SpaceData(space: space, ids: [], vectors: [], facts: [])
        out.ids.reserveCapacity(batch.ids.count)
        out.vectors.reserveCapacity(batch.values.count)
        for (i, id) in batch.ids.enumerated() {
            guard let f = facts[id] else { continue }  // deleted meanwhile
            out.ids.append(id)
            out.facts.append(f)
            out.vectors.append(contentsOf: batch.values[(i * space.dim)..<((i + 1) * space.dim)])
        }
        return out
    }

    /// The rows at `rows` (ascending or not), same order.
    func subset(_ rows: [Int]) -> SpaceData {
        var out = SpaceData(space: space, ids: rows.map { ids[$0] }, vectors: [], facts: rows.map { facts[$0] })
        out.vectors.reserveCapacity(rows.count * dims)
        for r in rows { out.vectors.append(contentsOf: vectors[(r * dims)..<((r + 1) * dims)]) }
        return out
    }

    /// Rows whose vector has a non-zero norm (cosine needs a direction).
    func nonZeroRows() -> [Int] {
        (0..<count).filter { r in
            var s: Float = 0
            for j in 0..<dims { s += vectors[r * dims + j] * vectors[r * dims + j] }
            return s > 0
        }
    }
}

// MARK: - Groups

/// How cross-validation groups functions so that no group is on both sides of a split.
enum Grouping: String, CaseIterable, Sendable {
    /// Repository: the probe generalises to unseen repositories.
    case repo
    /// Source file (repository + path): for single-repository corpora such as the standard library.
    case file
    /// Duplicate group (normalised body hash): copies of one function never straddle a split.
    case function

    static func parse(_ p: JSONValue) throws -> Grouping {
        Grouping(rawValue: try Params.choice(p, "group_by", default: "repo", among: allCases.map(\.rawValue)))!
    }

    /// One group key per row.
    func keys(_ data: SpaceData, store: any Store) async throws -> [String] {
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

// MARK: - Trivial feature

/// The trivial control feature: log(1 + token count) of each function (`signature + "\n" + body`,
/// the text of the teacher's body pass, untruncated, no special tokens), with the teacher's
/// WordPiece tokenizer; when no tokenizer can be loaded, log(1 + Unicode scalar count) instead.
enum TrivialFeature {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: WordPieceTokenizer] = [:]

    /// The tokenizer of a model folder (name under DATA/models, or a path); cached.
    static func tokenizer(_ nameOrPath: String, dataDirectory: URL) throws -> WordPieceTokenizer {
        let dir = ModelCache.resolve(nameOrPath, dataDirectory: dataDirectory)
        lock.lock()
        if let t = cache[dir.path] { lock.unlock(); return t }
        lock.unlock()
        let t = try WordPieceTokenizer(directory: dir)
        lock.lock(); cache[dir.path] = t; lock.unlock()
        return t
    }

    /// (values, description). `explicit` = a tokenizer the caller named (failure to load is an error).
    static func compute(_ ctx: JobContext, ids: [Int64], tokenizer explicit: String?, model: String) async throws -> ([Double], String) {
        var tok: WordPieceTokenizer?
        var label = "log1p(characters)"
        if let name = explicit ?? (model.isEmpty ? nil : model) {
            do {
                tok = try tokenizer(name, dataDirectory: ctx.dataDirectory)
                label = "log1p(tokens: \(URL(fileURLWithPath: name).lastPathComponent) WordPiece)"
            } catch {
                if explicit != nil {
                    throw APIError.badRequest("cannot load the tokenizer '\(name)' for the trivial control: \(error)", code: "unknown_model")
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

// MARK: - Targets

/// A probe target: a function property and how it becomes labels.
struct TargetSpec: Sendable, Equatable {
    enum Kind: String, Sendable { case count, category, inferred }
    var name: String
    var kind: Kind

    /// Non-negative counts, probed as log(1 + count) by ridge regression (R²).
    static let counts = ["loc", "cyclomatic_complexity", "n_branches", "n_loops", "n_returns", "n_args", "n_api_calls",
                         "commits", "authors", "file_commits"]
    /// Categories and flags, probed by balanced logistic regression (balanced accuracy).
    static let categories = ["return_category", "has_docstring", "has_decorators", "is_method", "is_async"]
    static let defaults = counts + categories

    init(name: String) {
        self.name = name
        kind = Self.counts.contains(name) ? .count : Self.categories.contains(name) ? .category : .inferred
    }

    static func parseList(_ p: JSONValue) throws -> [TargetSpec]? {
        guard let v = p["targets"], v != .null else { return nil }
        let items: [JSONValue]
        if let s = v.stringValue { items = s.split(separator: ",").map { .string(String($0).trimmingCharacters(in: .whitespaces)) } }
        else if let a = v.arrayValue { items = a }
        else { throw Params.bad("'targets' must be a list of property names") }
        guard !items.isEmpty, items.count <= 100 else { throw Params.bad("'targets' must name 1 to 100 properties") }
        var seen = Set<String>()
        return try items.map { item in
            guard let s = item.stringValue, s.count <= 64, let first = s.unicodeScalars.first,
                  first == "_" || ("a"..."z").contains(first),
                  s.unicodeScalars.allSatisfy({ $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }) else {
                throw Params.bad("target \(item.jsonString()) is not a property name (lowercase letters, digits, _); known: \(defaults.joined(separator: ", "))")
            }
            guard seen.insert(s).inserted else { throw Params.bad("target '\(s)' is listed twice") }
            return TargetSpec(name: s)
        }
    }

    /// Labels over the rows that have this property, or a reason why it cannot be probed.
    /// Counts: finite numbers ≥ 0 → log1p. Categories: strings/bools/numbers as class names.
    /// Other properties: all numbers → raw regression, else classification of their text.
    func labels(_ facts: [FunctionFacts]) -> Result<TargetLabels, TargetSkip> {
        var rows = [Int](), numbers = [Double](), names = [String]()
        var allNumbers = true
        for (i, f) in facts.enumerated() {
            guard let v = f.properties[name], v != .null else { continue }
            switch kind {
            case .count:
                guard case .number(let x) = v, x.isFinite, x >= 0 else { continue }
                rows.append(i); numbers.append(x)
            case .category, .inferred:
                let text: String
                switch v {
                case .string(let s): text = s; allNumbers = false
                case .bool(let b): text = b ? "true" : "false"; allNumbers = false
                case .number(let x): text = x.rounded() == x && abs(x) < 1e15 ? String(Int64(x)) : String(x); numbers.append(x)
                default: continue
                }
                rows.append(i); names.append(text)
            }
        }
        guard rows.count >= 2 else {
            return .failure(TargetSkip(target: name, reason: rows.isEmpty ? "no function has this property" : "only \(rows.count) function has this property"))
        }
        if kind == .count || (kind == .inferred && allNumbers) {
            let y = kind == .count ? numbers.map { Foundation.log1p($0) } : numbers
            guard let lo = y.min(), let hi = y.max(), hi > lo, y.allSatisfy(\.isFinite) else {
                return .failure(TargetSkip(target: name, reason: "the value is the same for every function"))
            }
            return .success(TargetLabels(rows: rows, labels: .regression(y), classNames: nil,
                                         transform: kind == .count ? "log1p" : "none"))
        }
        let (labels, classNames) = ProbeLabels.categories(names)
        guard classNames.count >= 2 else {
            return .failure(TargetSkip(target: name, reason: "only one class ('\(classNames.first ?? "")')"))
        }
        return .success(TargetLabels(rows: rows, labels: labels, classNames: classNames, transform: nil))
    }
}

struct TargetLabels: Sendable {
    var rows: [Int]
    var labels: ProbeLabels
    var classNames: [String]?
    var transform: String?
}

struct TargetSkip: Error, Sendable {
    var target: String
    var reason: String
    var json: JSONValue { ["target": .string(target), "reason": .string(reason)] }
}

// MARK: - Helpers

extension Array where Element == Float {
    /// Rows of an n×d matrix.
    func rows(_ rows: [Int], dims d: Int) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(rows.count * d)
        for r in rows { out.append(contentsOf: self[(r * d)..<((r + 1) * d)]) }
        return out
    }

    /// Rows of an n×d matrix, as Double.
    func rowsAsDouble(_ rows: [Int], dims d: Int) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(rows.count * d)
        for r in rows { for j in 0..<d { out.append(Double(self[r * d + j])) } }
        return out
    }
}

extension JSONValue {
    /// Adds (or replaces) keys of an object value.
    func merging(_ extra: [String: JSONValue]) -> JSONValue {
        guard case .object(var o) = self else { return self }
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }
}

/// Cancel from inside compute closures: the Analysis progress callbacks throw this.
func cancelCheck(_ ctx: JobContext) throws { if ctx.isCancelled { throw JobCancelled() } }
