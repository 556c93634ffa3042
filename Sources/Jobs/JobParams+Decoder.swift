import Core
import Foundation

/// A `Decoder` reading a `JSONValue` directly, with errors a client can act on: every failure is a
/// `DecodingError` whose path names the field and whose description says what was expected and what
/// came (`must be an integer, got 2.5`). Foundation's JSONDecoder reports a fractional number for an
/// `Int` as "not valid JSON" without a path; job parameters need better.
///
/// ```swift
/// let folds = try Int(from: JSONValueDecoder(.number(5)))   // 5
/// ```
struct JSONValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: JSONValue, path: [any CodingKey] = []) {
        self.value = value
        self.codingPath = path
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let o) = value else { throw mismatch(codingPath, "an object", value) }
        return KeyedDecodingContainer(Keyed<Key>(object: o, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let a) = value else { throw mismatch(codingPath, "a list", value) }
        return Unkeyed(items: a, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, codingPath: codingPath) }
}

private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ i: Int) { intValue = i }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

private func mismatch(_ path: [any CodingKey], _ expected: String, _ got: JSONValue) -> DecodingError {
    .typeMismatch(Any.self, DecodingError.Context(codingPath: path, debugDescription: "must be \(expected), got \(got.jsonString())"))
}

/// Decodes one value; primitives checked here, everything else through its own `init(from:)`.
private func decodeValue<T: Decodable>(_ type: T.Type, _ v: JSONValue, _ path: [any CodingKey]) throws -> T {
    func integer<I: FixedWidthInteger>(_: I.Type, _ what: String) throws -> I {
        guard case .number(let x) = v, x.rounded() == x, let i = I(exactly: x) else { throw mismatch(path, what, v) }
        return i
    }
    switch type {
    case is JSONValue.Type: return v as! T
    case is String.Type:
        guard case .string(let s) = v else { throw mismatch(path, "a string", v) }
        return s as! T
    case is Bool.Type:
        guard case .bool(let b) = v else { throw mismatch(path, "true or false", v) }
        return b as! T
    case is Double.Type:
        guard case .number(let x) = v else { throw mismatch(path, "a number", v) }
        return x as! T
    case is Float.Type:
        guard case .number(let x) = v else { throw mismatch(path, "a number", v) }
        return Float(x) as! T
    case is Int.Type: return try integer(Int.self, "an integer") as! T
    case is Int64.Type: return try integer(Int64.self, "an integer") as! T
    case is UInt64.Type: return try integer(UInt64.self, "an integer ≥ 0") as! T
    default: return try T(from: JSONValueDecoder(v, path: path))
    }
}

private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: [String: JSONValue]
    let codingPath: [any CodingKey]
    var allKeys: [Key] { object.keys.compactMap(Key.init(stringValue:)) }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    func decodeNil(forKey key: Key) throws -> Bool { (object[key.stringValue] ?? .null) == .null }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let v = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, DecodingError.Context(codingPath: codingPath, debugDescription: "missing"))
        }
        guard v != .null || type == JSONValue.self else {
            throw DecodingError.valueNotFound(type, DecodingError.Context(codingPath: codingPath + [key], debugDescription: "must not be null"))
        }
        return try decodeValue(type, v, codingPath + [key])
    }

    func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
        try JSONValueDecoder(object[key.stringValue] ?? .null, path: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try JSONValueDecoder(object[key.stringValue] ?? .null, path: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { JSONValueDecoder(.object(object), path: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { JSONValueDecoder(object[key.stringValue] ?? .null, path: codingPath + [key]) }
}

private struct Unkeyed: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [JSONValue], codingPath: [any CodingKey]) { self.items = items; self.codingPath = codingPath }

    private func next() throws -> (JSONValue, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, DecodingError.Context(codingPath: codingPath, debugDescription: "has too few items"))
        }
        return (items[currentIndex], codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, path) = try next()
        let out = try decodeValue(type, v, path)
        currentIndex += 1
        return out
    }

    mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
        let (v, path) = try next()
        currentIndex += 1
        return try JSONValueDecoder(v, path: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (v, path) = try next()
        currentIndex += 1
        return try JSONValueDecoder(v, path: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (v, path) = try next()
        currentIndex += 1
        return JSONValueDecoder(v, path: path)
    }
}

private struct Single: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    func decodeNil() -> Bool { value == .null }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, value, codingPath) }
}
