import Core
import Foundation
import Testing

/// The test-support validator (`SchemaValidator`, `JSONValue.yaml`) on tiny hand-written schemas:
/// each keyword accepts a valid value and rejects each kind of invalid one at the right JSON pointer,
/// so the contract checks on real responses cannot pass because the validator looks at nothing.
@Suite struct SchemaValidatorTests {
    let v = SchemaValidator(document: [
        "components": ["schemas": [
            "Id": ["type": "integer", "minimum": 1],
            "Pair": ["type": "object", "required": ["a"], "properties": ["a": ["$ref": "#/components/schemas/Id"], "b": ["type": "string"]]],
            "Base": ["type": "object", "properties": ["x": ["type": "integer"]]],
        ]],
    ])

    /// The pointers of the violations of `value` against `schema` ("" is the root).
    func fails(_ value: JSONValue, _ schema: JSONValue) -> [String] { v.validate(value, against: schema).map(\.pointer) }

    @Test func types() {
        #expect(fails(3, ["type": "integer"]).isEmpty)
        #expect(fails(3, ["type": "number"]).isEmpty)  // every integer is a number
        #expect(fails(3.5, ["type": "integer"]) == [""])
        #expect(fails("3", ["type": "number"]) == [""])
        #expect(fails(true, ["type": "integer"]) == [""])
        #expect(fails(.null, ["type": ["string", "null"]]).isEmpty)
        #expect(fails("s", ["type": ["string", "null"]]).isEmpty)
        #expect(fails(1, ["type": ["string", "null"]]) == [""])
        #expect(fails([1], ["type": "object"]) == [""])
        #expect(fails(["a": 1], ["type": "array"]) == [""])
        #expect(fails(.null, true).isEmpty)
        #expect(fails(.null, false) == [""])
        #expect(fails(1, [:]).isEmpty)
    }

    @Test func objects() {
        let pair: JSONValue = ["$ref": "#/components/schemas/Pair"]
        #expect(fails(["a": 1, "b": "x"], pair).isEmpty)
        #expect(fails(["b": "x"], pair) == [""])  // required
        #expect(fails(["a": 0], pair) == ["/a"])  // minimum through a nested $ref
        #expect(fails(["a": 1, "b": 2], pair) == ["/b"])
        #expect(fails(["a": 1, "c": 2], pair) == ["/c"])  // closed: undocumented field
        var open = v
        open.closedObjects = false
        #expect(open.validate(["a": 1, "c": 2], against: pair).isEmpty)
        #expect(fails(["a": 1, "c": 2], ["properties": ["a": [:]], "additionalProperties": true]).isEmpty)
        #expect(fails(["a": 1, "c": 2], ["properties": ["a": [:]], "additionalProperties": false]) == ["/c"])
        #expect(fails(["x": 1, "y": "no"], ["type": "object", "additionalProperties": ["type": "integer"]]) == ["/y"])
        #expect(fails(["free": 1], ["type": "object"]).isEmpty)  // no properties listed: free-form
        #expect(fails(["a/b": "x"], ["properties": ["a/b": ["type": "integer"]]]) == ["/a~1b"])
    }

    @Test func arrays() {
        let s: JSONValue = ["type": "array", "items": ["type": "integer"], "minItems": 1, "maxItems": 3]
        #expect(fails([1, 2], s).isEmpty)
        #expect(fails([], s) == [""])
        #expect(fails([1, 2, 3, 4], s) == [""])
        #expect(fails([1, "two"], s) == ["/1"])
        #expect(fails([[1], [2, "x"]], ["items": ["items": ["type": "number"]]]) == ["/1/1"])
        #expect(fails([1, 2, 1], ["uniqueItems": true]) == [""])
        #expect(fails([1, 2, 3], ["uniqueItems": true]).isEmpty)
    }

    @Test func enumsConstsAndBounds() {
        #expect(fails("ip", ["enum": ["cosine", "ip", "l2"]]).isEmpty)
        #expect(fails("inner_product", ["enum": ["cosine", "ip", "l2"]]) == [""])
        #expect(fails("ok", ["const": "ok"]).isEmpty)
        #expect(fails("okay", ["const": "ok"]) == [""])
        #expect(fails(5, ["minimum": 1, "maximum": 5]).isEmpty)
        #expect(fails(6, ["minimum": 1, "maximum": 5]) == [""])
        #expect(fails(0, ["minimum": 1]) == [""])
        #expect(fails(1, ["exclusiveMinimum": 1]) == [""])
        #expect(fails(1, ["exclusiveMaximum": 1]) == [""])
        #expect(fails("abc", ["minLength": 1, "maxLength": 3]).isEmpty)
        #expect(fails("", ["minLength": 1]) == [""])
        #expect(fails("abcd", ["maxLength": 3]) == [""])
        #expect(fails("a.b-c", ["pattern": "^[a-z.-]{1,10}$"]).isEmpty)
        #expect(fails("a b", ["pattern": "^[a-z.-]{1,10}$"]) == [""])
    }

    @Test func composition() {
        let one: JSONValue = ["oneOf": [["type": "integer"], ["type": "number", "minimum": 10]]]
        #expect(fails(3, one).isEmpty)
        #expect(fails(3.5, one) == [""])  // neither
        #expect(fails(12, one) == [""])  // both
        #expect(fails("x", ["anyOf": [["type": "integer"], ["type": "string"]]]).isEmpty)
        #expect(fails(true, ["anyOf": [["type": "integer"], ["type": "string"]]]) == [""])
        #expect(fails(3, ["allOf": [["type": "integer"], ["minimum": 1]]]).isEmpty)
        #expect(fails(0, ["allOf": [["type": "integer"], ["minimum": 1]]]) == [""])
        #expect(fails(1, ["not": ["type": "integer"]]) == [""])
        // A closed object extended by allOf accepts the fields its branches declare, and only those.
        let extended: JSONValue = ["allOf": [["$ref": "#/components/schemas/Base"]], "properties": ["y": ["type": "string"]]]
        #expect(fails(["x": 1, "y": "s"], extended).isEmpty)
        #expect(fails(["x": 1, "z": 0], extended) == ["/z"])
    }

    @Test func unknownKeywordsAndBrokenRefsAreViolations() {
        #expect(fails(1, ["type": "integer", "multipleOf": 2]) == [""])
        #expect(fails(1, ["$ref": "#/components/schemas/Nope"]) == [""])
        #expect(fails(1, ["type": "integer", "format": "int64", "description": "d", "default": 1, "example": 2]).isEmpty)
    }

    @Test func yamlBecomesJSON() throws {
        let y = try JSONValue.yaml("""
            a: 1
            b: 1.5
            c: true
            d: ~
            e: '200'
            200: { description: ok }
            f: [x, 'y', 0.1.0]
            g: |
              text
            h: 0
            """)
        #expect(y == ["a": 1, "b": 1.5, "c": true, "d": .null, "e": "200", "200": ["description": "ok"],
                      "f": ["x", "y", "0.1.0"], "g": "text\n", "h": 0])
        #expect(throws: JSONValue.YAMLError.self) { try JSONValue.yaml("a: 1\nb:\n  c: 1\n  c: 2\n") }
    }
}
