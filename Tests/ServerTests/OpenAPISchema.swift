import Core
import Foundation
import Yams

/// One place where a JSON value breaks its schema: an RFC 6901 pointer into the value and what is wrong.
struct SchemaViolation: Equatable, CustomStringConvertible {
    var pointer: String
    var message: String
    var description: String { "\(pointer.isEmpty ? "(root)" : pointer): \(message)" }
}

/// A JSON Schema (2020-12, as OpenAPI 3.1 uses it) validator for the keywords openapi/openapi.yaml
/// uses: `type` (a name or a list, `integer` = a whole number), `properties`, `required`,
/// `additionalProperties`, `items`, `enum`, `const`, `oneOf` / `anyOf` / `allOf` / `not`, `$ref` to
/// `#/…` in the document, `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum`,
/// `minItems` / `maxItems`, `minLength` / `maxLength`, `pattern`, `uniqueItems`. Annotations
/// (`description`, `format`, `default`, `example`, `contentMediaType`, …) are ignored; any other
/// keyword is itself a violation, so the spec cannot rely on a check this validator would skip.
///
/// Unlike plain JSON Schema, an object schema that lists `properties` and says nothing about
/// `additionalProperties` is closed when `closedObjects` is set: a spec documents every field, and
/// with the open default a renamed optional field would pass unnoticed.
///
///     let v = SchemaValidator(document: spec)
///     v.validate(["id": 1], against: ["$ref": "#/components/schemas/Function"])  // [violations]
struct SchemaValidator: Sendable {
    /// The document `$ref`s point into.
    var document: JSONValue = .null
    var closedObjects = true

    static let assertions: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "enum", "const", "oneOf", "anyOf",
        "allOf", "not", "$ref", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems",
        "maxItems", "minLength", "maxLength", "pattern", "uniqueItems",
    ]
    static let annotations: Set<String> = [
        "description", "title", "summary", "default", "example", "examples", "format", "contentEncoding",
        "contentMediaType", "deprecated", "readOnly", "writeOnly", "$comment", "discriminator",
    ]

    func validate(_ value: JSONValue, against schema: JSONValue) -> [SchemaViolation] {
        check(value, schema, "", closed: closedObjects, depth: 0)
    }

    /// The value a local reference (`#/components/schemas/X`) names, or nil.
    func resolve(ref: String) -> JSONValue? {
        guard ref.hasPrefix("#") else { return nil }
        var node = document
        for raw in ref.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let key = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch node {
            case .object(let o): guard let next = o[key] else { return nil }; node = next
            case .array(let a): guard let i = Int(key), a.indices.contains(i) else { return nil }; node = a[i]
            default: return nil
            }
        }
        return node
    }

    static func pointer(_ base: String, _ token: String) -> String {
        base + "/" + token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    static func typeName(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool: "boolean"
        case .number(let n): n.isFinite && n.rounded() == n ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    static func short(_ v: JSONValue) -> String {
        let s = v.jsonString()
        return s.count > 80 ? String(s.prefix(77)) + "…" : s
    }

    private func check(_ value: JSONValue, _ schema: JSONValue, _ at: String, closed: Bool, depth: Int) -> [SchemaViolation] {
        guard depth < 64 else { return [SchemaViolation(pointer: at, message: "schema nests too deep (a $ref cycle?)")] }
        switch schema {
        case .bool(true): return []
        case .bool(false): return [SchemaViolation(pointer: at, message: "no value is allowed here")]
        case .object: break
        default: return [SchemaViolation(pointer: at, message: "schema is not an object or boolean: \(Self.short(schema))")]
        }
        let s = schema.objectValue!
        var out = [SchemaViolation]()
        func fail(_ message: String, _ pointer: String? = nil) { out.append(SchemaViolation(pointer: pointer ?? at, message: message)) }

        for key in s.keys.sorted() where !Self.assertions.contains(key) && !Self.annotations.contains(key) {
            fail("schema keyword '\(key)' is not supported by the test validator")
        }
        if let ref = s["$ref"] {
            guard let r = ref.stringValue, let target = resolve(ref: r) else {
                fail("unresolvable $ref \(Self.short(ref))")
                return out
            }
            out += check(value, target, at, closed: closed, depth: depth + 1)
        }
        if let t = s["type"] {
            let names = t.arrayValue?.compactMap(\.stringValue) ?? t.stringValue.map { [$0] } ?? []
            let actual = Self.typeName(value)
            let ok = names.contains(actual) || (actual == "integer" && names.contains("number"))
            if !ok {
                fail("expected \(names.joined(separator: " or ")), got \(actual) \(Self.short(value))")
                return out  // the other keywords would only repeat the mismatch
            }
        }
        if let e = s["enum"]?.arrayValue, !e.contains(value) {
            fail("\(Self.short(value)) is not one of \(Self.short(.array(e)))")
        }
        if let c = s["const"], c != value { fail("expected \(Self.short(c)), got \(Self.short(value))") }

        // Composition.
        if let all = s["allOf"]?.arrayValue {
            for (i, sub) in all.enumerated() {
                let v = check(value, sub, at, closed: false, depth: depth + 1)
                if !v.isEmpty { fail("allOf[\(i)] fails: \(v.map(\.description).joined(separator: "; "))") }
            }
        }
        if let any = s["anyOf"]?.arrayValue {
            let results = any.map { check(value, $0, at, closed: closed, depth: depth + 1) }
            if !results.contains(where: \.isEmpty) {
                fail("matches none of anyOf: " + results.enumerated().map { "[\($0)] \($1.first?.description ?? "")" }.joined(separator: " | "))
            }
        }
        if let one = s["oneOf"]?.arrayValue {
            let results = one.map { check(value, $0, at, closed: closed, depth: depth + 1) }
            let matched = results.indices.filter { results[$0].isEmpty }
            if matched.isEmpty {
                fail("matches none of oneOf: " + results.enumerated().map { "[\($0)] \($1.first?.description ?? "")" }.joined(separator: " | "))
            } else if matched.count > 1 {
                fail("matches oneOf branches \(matched) (exactly one must match)")
            }
        }
        if let not = s["not"], check(value, not, at, closed: closed, depth: depth + 1).isEmpty {
            fail("matches the schema under 'not'")
        }

        switch value {
        case .number(let n):
            if let m = s["minimum"]?.doubleValue, n < m { fail("\(n) < minimum \(m)") }
            if let m = s["maximum"]?.doubleValue, n > m { fail("\(n) > maximum \(m)") }
            if let m = s["exclusiveMinimum"]?.doubleValue, n <= m { fail("\(n) ≤ exclusiveMinimum \(m)") }
            if let m = s["exclusiveMaximum"]?.doubleValue, n >= m { fail("\(n) ≥ exclusiveMaximum \(m)") }
        case .string(let str):
            let length = str.unicodeScalars.count
            if let m = s["minLength"]?.intValue, length < m { fail("length \(length) < minLength \(m)") }
            if let m = s["maxLength"]?.intValue, length > m { fail("length \(length) > maxLength \(m)") }
            if let p = s["pattern"]?.stringValue {
                if let re = try? NSRegularExpression(pattern: p) {
                    if re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil { fail("\(Self.short(value)) does not match \(p)") }
                } else {
                    fail("pattern \(p) does not compile")
                }
            }
        case .array(let items):
            if let m = s["minItems"]?.intValue, items.count < m { fail("\(items.count) items < minItems \(m)") }
            if let m = s["maxItems"]?.intValue, items.count > m { fail("\(items.count) items > maxItems \(m)") }
            if s["uniqueItems"]?.boolValue == true {
                var seen = Set<String>()
                for (i, item) in items.enumerated() where !seen.insert(item.jsonString()).inserted {
                    fail("item \(i) repeats an earlier item (uniqueItems)")
                    break
                }
            }
            if let itemSchema = s["items"] {
                for (i, item) in items.enumerated() {
                    out += check(item, itemSchema, Self.pointer(at, String(i)), closed: closed, depth: depth + 1)
                }
            }
        case .object(let fields):
            let properties = s["properties"]?.objectValue ?? [:]
            for name in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where fields[name] == nil {
                fail("required field '\(name)' is missing")
            }
            for name in fields.keys.sorted() {
                let p = Self.pointer(at, name)
                if let sub = properties[name] {
                    out += check(fields[name]!, sub, p, closed: closed, depth: depth + 1)
                } else if let extra = s["additionalProperties"] {
                    out += check(fields[name]!, extra, p, closed: closed, depth: depth + 1)
                } else if closed, s["properties"] != nil, !declaredInAllOf(name, s, depth: depth) {
                    fail("field '\(name)' is not documented (the schema lists \(properties.keys.sorted().joined(separator: ", ")))", p)
                }
            }
        default:
            break
        }
        return out
    }

    /// Whether an `allOf` branch of `s` (following `$ref`s) declares the property `name`.
    private func declaredInAllOf(_ name: String, _ s: [String: JSONValue], depth: Int) -> Bool {
        guard depth < 64 else { return false }
        for branch in s["allOf"]?.arrayValue ?? [] {
            var b = branch.objectValue ?? [:]
            if let r = b["$ref"]?.stringValue, let target = resolve(ref: r)?.objectValue { b = target }
            if b["properties"]?[name] != nil || declaredInAllOf(name, b, depth: depth + 1) { return true }
        }
        return false
    }
}

extension JSONValue {
    /// A YAML document as JSON: mapping keys become strings (`200:` and `'200':` alike), scalars
    /// take the type YAML 1.1's core schema resolves (`5` a number, `true` a boolean, `~` null).
    /// Duplicate mapping keys throw: YAML parsers disagree on which one wins.
    static func yaml(_ text: String) throws -> JSONValue {
        guard let node = try Yams.compose(yaml: text) else { return .null }
        return try JSONValue(yamlNode: node, at: "")
    }

    struct YAMLError: Error, CustomStringConvertible { var description: String }

    init(yamlNode node: Node, at path: String) throws {
        switch node {
        case .scalar(let scalar):
            switch node.tag.description {
            case Tag.Name.null.rawValue: self = .null
            case Tag.Name.bool.rawValue: self = node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: self = node.int.map { .number(Double($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue: self = node.float.map(JSONValue.number) ?? .string(scalar.string)
            default: self = .string(scalar.string)
            }
        case .sequence(let seq):
            self = .array(try seq.enumerated().map { try JSONValue(yamlNode: $1, at: "\(path)/\($0)") })
        case .mapping(let mapping):
            var o = [String: JSONValue]()
            for (k, v) in mapping {
                let key = k.scalar?.string ?? "\(k)"
                guard o[key] == nil else { throw YAMLError(description: "duplicate key '\(key)' at \(path.isEmpty ? "/" : path)") }
                o[key] = try JSONValue(yamlNode: v, at: SchemaValidator.pointer(path, key))
            }
            self = .object(o)
        }
    }
}
