import Analysis
import Core
import Foundation
import Store

/// A probe target: a function property and how it becomes labels.
struct TargetSpec: Sendable, Equatable {
    enum Kind: String, Sendable { case count, category, inferred }
    var name: String
    var kind: Kind

    /// Non-negative counts, probed as log(1 + count) by ridge regression (R²): `StoredProperties.counts`.
    static let counts = StoredProperties.counts
    /// Categories and flags, probed by balanced logistic regression (balanced accuracy): `StoredProperties.categories`.
    static let categories = StoredProperties.categories
    static let defaults = counts + categories

    init(name: String) {
        self.name = name
        kind = Self.counts.contains(name) ? .count : Self.categories.contains(name) ? .category : .inferred
    }

    /// `targets`: a list of property names or one comma-separated string; nil when absent.
    static func decodeList<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> [TargetSpec]? {
        guard try c.contains(key) && !c.decodeNil(forKey: key) else { return nil }
        let names: [String]
        if let s = try? c.decode(String.self, forKey: key) {
            names = s.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: " ")) }
        } else {
            names = try c.decode([String].self, forKey: key)
        }
        func bad(_ m: String) -> DecodingError { .dataCorruptedError(forKey: key, in: c, debugDescription: m) }
        guard !names.isEmpty, names.count <= 100 else { throw bad("must name 1 to 100 properties") }
        var seen = Set<String>()
        return try names.map { s -> TargetSpec? in
            guard s.count <= 64, let first = s.unicodeScalars.first, first == "_" || ("a"..."z").contains(first),
                  s.unicodeScalars.allSatisfy({ $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }) else {
                throw bad("has \"\(s)\", not a property name (lowercase letters, digits, _); known: \(defaults.joined(separator: ", "))")
            }
            return seen.insert(s).inserted ? TargetSpec(name: s) : nil
        }.compactMap { $0 }
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

struct TargetSkip: Error, Sendable, Encodable {
    var target: String
    var reason: String
}
