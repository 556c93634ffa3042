// The vocabulary of a function's stored properties: one struct per group of facts, with the
// snake_case keys of the `properties` object (ingestion writes them, the store keeps them, probes
// read them as targets). Clients may store other keys beside these; probes infer how to read those.

/// Category of a function's return annotation.
public enum ReturnAnnotationCategory: String, Sendable, Codable, CaseIterable {
    /// No `->` annotation.
    case none
    /// `None`, `int`, `float`, `complex`, `str`, `bytes`, `bool` (bare, possibly dotted like `builtins.int`).
    case builtinScalar = "builtin_scalar"
    /// `list`, `dict`, `set`, `frozenset`, `tuple` and their `typing`/`collections.abc` counterparts, bare or
    /// subscripted (`List[int]`, `dict[str, int]`, `typing.Sequence[T]`, `Iterator[int]`, ...).
    case container
    /// Anything else (`Optional[int]`, `int | None`, a class name, a string annotation, ...).
    case other
}

/// How a property is probed: counts by ridge regression on log(1 + count), categories (and flags)
/// by balanced logistic regression.
public enum PropertyKind: String, Sendable {
    case count, category
}

/// Static properties of one function: the probe targets. `Corpus.PythonMetrics` computes them (see
/// there for the exact rules); stored under the snake_case keys of `CodingKeys`.
///
/// ```swift
/// let p = FunctionProperties(loc: 3, cyclomaticComplexity: 1, branches: 0, loops: 0, returns: 1, arguments: 1,
///                            apiCalls: 0, returnAnnotation: .none, hasDocstring: false, hasDecorators: false,
///                            isMethod: false, isAsync: false)
/// try JSONValue.from(p)["n_args"]   // 1
/// ```
public struct FunctionProperties: Sendable, Codable, Equatable {
    /// Non-blank, non-comment lines of the whole function (decorators through the last body line); docstring lines excluded.
    public var loc: Int
    /// McCabe cyclomatic complexity, counted as radon does (nested functions and classes excluded).
    public var cyclomaticComplexity: Int
    /// `if` statements plus `elif` clauses plus `match` case clauses.
    public var branches: Int
    /// `for`, `async for` and `while` statements.
    public var loops: Int
    /// `return` statements.
    public var returns: Int
    /// Parameters: positional-only + positional + `*args` + keyword-only + `**kwargs` (`self`/`cls` included).
    public var arguments: Int
    /// Call expressions in the body (lambdas included; nested functions and classes excluded).
    public var apiCalls: Int
    public var returnAnnotation: ReturnAnnotationCategory
    public var hasDocstring: Bool
    public var hasDecorators: Bool
    public var isMethod: Bool
    public var isAsync: Bool

    public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
        case loc, cyclomaticComplexity = "cyclomatic_complexity", branches = "n_branches", loops = "n_loops"
        case returns = "n_returns", arguments = "n_args", apiCalls = "n_api_calls", returnAnnotation = "return_category"
        case hasDocstring = "has_docstring", hasDecorators = "has_decorators", isMethod = "is_method", isAsync = "is_async"

        public var kind: PropertyKind {
            switch self {
            case .loc, .cyclomaticComplexity, .branches, .loops, .returns, .arguments, .apiCalls: .count
            case .returnAnnotation, .hasDocstring, .hasDecorators, .isMethod, .isAsync: .category
            }
        }
    }

    public init(loc: Int, cyclomaticComplexity: Int, branches: Int, loops: Int, returns: Int, arguments: Int, apiCalls: Int,
                returnAnnotation: ReturnAnnotationCategory, hasDocstring: Bool, hasDecorators: Bool, isMethod: Bool, isAsync: Bool) {
        self.loc = loc; self.cyclomaticComplexity = cyclomaticComplexity; self.branches = branches; self.loops = loops
        self.returns = returns; self.arguments = arguments; self.apiCalls = apiCalls; self.returnAnnotation = returnAnnotation
        self.hasDocstring = hasDocstring; self.hasDecorators = hasDecorators; self.isMethod = isMethod; self.isAsync = isAsync
    }
}

/// Where a function lies in its file (1-based line of `def`, UTF-8 byte offsets); not probed.
public struct SourcePosition: Sendable, Codable, Equatable {
    public var defLine: Int
    public var startByte: Int
    public var endByte: Int
    public var bodyStartByte: Int

    public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
        case defLine = "def_line", startByte = "start_byte", endByte = "end_byte", bodyStartByte = "body_start_byte"
    }

    public init(defLine: Int, startByte: Int, endByte: Int, bodyStartByte: Int) {
        self.defLine = defLine; self.startByte = startByte; self.endByte = endByte; self.bodyStartByte = bodyStartByte
    }
}

/// A function's git history counts (commits touching its lines, their authors, commits of its file).
public struct HistoryCounts: Sendable, Codable, Equatable {
    public var commits: Int
    public var authors: Int
    public var fileCommits: Int

    public enum CodingKeys: String, CodingKey, CaseIterable, Sendable {
        case commits, authors, fileCommits = "file_commits"
        public var kind: PropertyKind { .count }
    }

    public init(commits: Int, authors: Int, fileCommits: Int) {
        self.commits = commits; self.authors = authors; self.fileCommits = fileCommits
    }
}

/// Everything ingestion stores in a function's `properties` object, as one flat JSON object.
///
/// ```swift
/// let stored = StoredProperties(properties: p, position: SourcePosition(defLine: 3, startByte: 10, endByte: 80, bodyStartByte: 30))
/// try JSONValue.from(stored)   // {"loc": 3, …, "def_line": 3, …} (no history keys without history)
/// StoredProperties.counts      // ["loc", "cyclomatic_complexity", …, "commits", "authors", "file_commits"]
/// ```
public struct StoredProperties: Sendable, Codable, Equatable {
    public var properties: FunctionProperties
    public var position: SourcePosition
    public var history: HistoryCounts?

    public init(properties: FunctionProperties, position: SourcePosition, history: HistoryCounts? = nil) {
        self.properties = properties; self.position = position; self.history = history
    }

    /// Keys of the non-negative counts (probed as log(1 + count)).
    public static let counts: [String] = FunctionProperties.CodingKeys.allCases.filter { $0.kind == .count }.map(\.rawValue)
        + HistoryCounts.CodingKeys.allCases.map(\.rawValue)
    /// Keys of the categories and flags (probed as classes).
    public static let categories: [String] = FunctionProperties.CodingKeys.allCases.filter { $0.kind == .category }.map(\.rawValue)

    public init(from decoder: any Decoder) throws {
        properties = try FunctionProperties(from: decoder)
        position = try SourcePosition(from: decoder)
        let c = try decoder.container(keyedBy: HistoryCounts.CodingKeys.self)
        history = c.contains(.commits) ? try HistoryCounts(from: decoder) : nil
    }

    public func encode(to encoder: any Encoder) throws {
        try properties.encode(to: encoder)
        try position.encode(to: encoder)
        try history?.encode(to: encoder)
    }
}
