import Core
import Foundation
import Testing

/// `OpenAPIContract.violations(of:)` on a tiny hand-written spec and hand-made exchanges: each rule
/// (path, method, status, content type, body schema, query names, request body on 2xx) accepts a
/// conforming exchange and flags the broken one, so the hook in `LiveServer.call` is not vacuous.
@Suite struct OpenAPIContractTests {
    static let spec = """
        openapi: 3.1.0
        paths:
          /v1/things:
            get:
              operationId: listThings
              parameters:
                - { name: limit, in: query, schema: { type: integer, minimum: 1 } }
              responses:
                '200':
                  description: ok
                  content:
                    application/json: { schema: { type: object, required: [things], properties: { things: { type: array, items: { $ref: '#/components/schemas/Thing' } } } } }
                    application/x-npy: { schema: { type: string } }
                '4XX': { $ref: '#/components/responses/Err' }
            post:
              operationId: addThing
              requestBody:
                required: true
                content:
                  application/json: { schema: { $ref: '#/components/schemas/Thing' } }
              responses:
                201:
                  description: made
                  content: { application/json: { schema: { $ref: '#/components/schemas/Thing' } } }
                '400': { $ref: '#/components/responses/Err' }
          /v1/things/{id}:
            parameters:
              - { name: id, in: path, required: true, schema: { type: integer, minimum: 1 } }
            delete:
              operationId: deleteThing
              responses:
                '204': { description: gone }
                '404': { $ref: '#/components/responses/Err' }
          /v1/things/special:
            get:
              operationId: special
              responses:
                '200': { description: ok, content: { text/plain: { schema: { type: string } } } }
                '404': { $ref: '#/components/responses/Err' }
        components:
          responses:
            Err:
              description: error
              content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } }
          schemas:
            Thing:
              type: object
              required: [id, name]
              properties: { id: { type: integer }, name: { type: string, minLength: 1 } }
            Error:
              type: object
              required: [error]
              properties:
                error: { type: object, required: [code, message], properties: { code: { type: string }, message: { type: string } } }
        """

    let contract: OpenAPIContract
    init() throws { contract = try OpenAPIContract(yaml: Self.spec) }

    static let json = ["content-type": "application/json"]
    static let error = Data(#"{"error":{"code":"x","message":"y"}}"#.utf8)

    func check(_ method: String, _ target: String, _ status: Int, _ body: String = "", type: String? = "application/json",
               request: String? = nil, requestType: String = "application/json") -> [String] {
        var x = OpenAPIContract.Exchange(method: method, target: target, status: status, responseBody: Data(body.utf8))
        if let type { x.responseHeaders["content-type"] = type }
        if let request { x.requestBody = Data(request.utf8); x.requestHeaders["content-type"] = requestType }
        return contract.violations(of: x)
    }

    @Test func readsOperationsAndMatchesTemplates() {
        #expect(contract.problems.isEmpty)
        #expect(Set(contract.operations.map(\.key)) == ["GET /v1/things", "POST /v1/things", "DELETE /v1/things/{id}", "GET /v1/things/special"])
        #expect(contract.operation("POST", "/v1/things")?.responses.keys.sorted() == ["201", "400"])  // `201:` read as "201"
        #expect(contract.match(path: "/v1/things/special")?.template == "/v1/things/special")  // the literal wins
        #expect(contract.match(path: "/v1/things/7")?.values == ["id": "7"])
        #expect(contract.match(path: "/v1/things/7/x") == nil)
        #expect(contract.match(path: "/v1/things/") == nil)
    }

    @Test func conformingExchangesPass() {
        #expect(check("GET", "/v1/things?limit=2", 200, #"{"things":[{"id":1,"name":"a"}]}"#).isEmpty)
        #expect(check("GET", "/v1/things", 200, "\u{93}NUMPY", type: "application/x-npy").isEmpty)
        #expect(check("GET", "/v1/things?limit=0", 400, String(decoding: Self.error, as: UTF8.self)).isEmpty)  // via 4XX
        #expect(check("POST", "/v1/things", 201, #"{"id":1,"name":"a"}"#, request: #"{"id":1,"name":"a"}"#).isEmpty)
        #expect(check("POST", "/v1/things", 400, String(decoding: Self.error, as: UTF8.self), request: #"{"id":"bad"}"#).isEmpty)
        #expect(check("DELETE", "/v1/things/3", 204, type: nil).isEmpty)
        // The spec's media-type rules: no Content-Type is JSON; a form-typed body that is plainly JSON is JSON.
        #expect(check("POST", "/v1/things", 201, #"{"id":1,"name":"a"}"#, request: #" {"id":1,"name":"a"}"#, requestType: "application/x-www-form-urlencoded").isEmpty)
        var untyped = OpenAPIContract.Exchange(method: "POST", target: "/v1/things", requestBody: Data(#"{"id":1}"#.utf8), status: 201,
                                               responseHeaders: Self.json, responseBody: Data(#"{"id":1,"name":"a"}"#.utf8))
        #expect(contract.violations(of: untyped).first?.contains("request body") == true)  // read as JSON, and checked
        untyped.requestBody = Data(#"{"id":1,"name":"b"}"#.utf8)
        #expect(contract.violations(of: untyped).isEmpty)
        #expect(check("GET", "/v2/none", 404, String(decoding: Self.error, as: UTF8.self)).isEmpty)
        #expect(check("PATCH", "/v1/things", 405, String(decoding: Self.error, as: UTF8.self)).isEmpty)
    }

    @Test func eachKindOfDriftIsFlagged() {
        // A renamed response field (required missing, and the new name undocumented).
        let renamed = check("GET", "/v1/things", 200, #"{"things":[{"id":1,"title":"a"}]}"#)
        #expect(renamed.count == 2 && renamed.allSatisfy { $0.contains("/things/0") })
        // An undocumented status, content type, or body.
        #expect(check("GET", "/v1/things", 202, "{}").first?.contains("status 202 is not documented") == true)
        #expect(check("GET", "/v1/things", 200, "x", type: "text/csv").first?.contains("Content-Type text/csv") == true)
        #expect(check("DELETE", "/v1/things/3", 204, "{}").first?.contains("documents no body") == true)
        #expect(check("GET", "/v1/things", 200, "not json").first?.contains("does not parse") == true)
        // An error body that is not the Error schema.
        #expect(check("GET", "/v1/things", 404, #"{"message":"x"}"#).first?.contains("required field 'error'") == true)
        // Unknown paths and methods must get 404 / 405 with an Error body.
        #expect(check("GET", "/v2/none", 200, "{}").count == 2)
        #expect(check("PUT", "/v1/things", 200, String(decoding: Self.error, as: UTF8.self)).first?.contains("405") == true)
        // Request side: undeclared query names always; values, bodies and content types once accepted.
        #expect(check("GET", "/v1/things?limt=2", 400, String(decoding: Self.error, as: UTF8.self)).first?.contains("'limt' is not declared") == true)
        #expect(check("GET", "/v1/things?limit=0", 200, #"{"things":[]}"#).first?.contains("query parameter 'limit'") == true)
        #expect(check("DELETE", "/v1/things/0", 204, type: nil).first?.contains("path parameter 'id'") == true)
        #expect(check("POST", "/v1/things", 201, #"{"id":1,"name":"a"}"#, request: #"{"id":1}"#).first?.contains("request body") == true)
        #expect(check("POST", "/v1/things", 201, #"{"id":1,"name":"a"}"#, request: "x", requestType: "text/csv").first?.contains("request Content-Type") == true)
        #expect(check("POST", "/v1/things", 201, #"{"id":1,"name":"a"}"#, request: "a=1", requestType: "application/x-www-form-urlencoded").first?.contains("request Content-Type") == true)
        #expect(check("POST", "/v1/things", 201, #"{"id":1,"name":"a"}"#).first?.contains("requestBody is required") == true)
    }

    @Test func brokenSpecsAreReported() throws {
        let undeclared = try OpenAPIContract(yaml: "openapi: 3.1.0\npaths:\n  /a/{id}:\n    get:\n      responses: { '200': { description: ok } }\n    fetch: {}\n")
        #expect(undeclared.problems.count == 2)  // {id} not declared; 'fetch' is no method
        #expect(throws: OpenAPIContract.LoadError.self) { try OpenAPIContract(yaml: "openapi: 3.1.0\ninfo: {}\n") }
    }
}
