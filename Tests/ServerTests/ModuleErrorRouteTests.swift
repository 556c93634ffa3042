import Core
import Foundation
import Testing
import TestSupport
@testable import Server

/// Errors thrown by the modules (Teacher, Store) reach the client as their documented 4xx through the
/// server's one mapping (`APIError(_:)`); every exchange is checked against openapi.yaml by `call`.
@Suite struct ModuleErrorRouteTests {
    static let tinyBert = PackagePaths.root.appendingPathComponent("Tests/TeacherTests/Fixtures/tiny-bert")

    /// A copy of the tiny BERT fixture, minus the files named, with `config` as config.json if given.
    static func modelFolder(in dir: URL, _ name: String, without: Set<String> = [], config: String? = nil) throws -> URL {
        let folder = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: tinyBert.path) where !without.contains(f) {
            try FileManager.default.copyItem(at: tinyBert.appendingPathComponent(f), to: folder.appendingPathComponent(f))
        }
        if let config { try Data(config.utf8).write(to: folder.appendingPathComponent("config.json")) }
        return folder
    }

    @Test(arguments: Backend.all) func aBrokenModelFolderIsA422BadModel(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        // Models are folders under DATA/models, named (never a path) by the request.
        let dir = s.dir.appendingPathComponent("models")
        // The intact folder embeds: the route really loads the model the request names.
        let good = try Self.modelFolder(in: dir, "good")
        let ok = try await s.call("POST", "/v1/embed", json: ["texts": ["def f(x):"], "model": .string(good.lastPathComponent)])
        #expect(ok.status == 200 && ok.json?["dim"] == 32, "\(String(decoding: ok.body, as: UTF8.self))")
        let broken = [
            try Self.modelFolder(in: dir, "garbage-config", config: "{{ not json"),
            try Self.modelFolder(in: dir, "no-weights", without: ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                                                                 "model.safetensors.index.json"]),
            try Self.modelFolder(in: dir, "gpt2", config: #"{"model_type":"gpt2","vocab_size":40,"hidden_size":32}"#),
            try Self.modelFolder(in: dir, "no-vocab", without: ["vocab.txt"]),
        ]
        for folder in broken {
            let r = try await s.call("POST", "/v1/embed", json: ["texts": ["def f(x):"], "model": .string(folder.lastPathComponent)])
            #expect(r.status == 422 && r.errorCode == "bad_model", "\(folder.lastPathComponent): \(String(decoding: r.body, as: UTF8.self))")
            #expect(r.json?["error"]?["message"]?.stringValue?.isEmpty == false)
            #expect(!String(decoding: r.body, as: UTF8.self).contains(s.dir.path), "no server path in \(String(decoding: r.body, as: UTF8.self))")
        }
        // A well-formed name the server holds no folder for: 422 unknown_model (it depends on what is installed).
        let none = try await s.call("POST", "/v1/embed", json: ["texts": ["x"], "model": "absent"])
        #expect(none.status == 422 && none.errorCode == "unknown_model")
        // A path is refused before anything is looked up: the same answer whether it exists or not.
        for path in [good.path, dir.appendingPathComponent("absent").path, "../models/good", "/etc"] {
            let r = try await s.call("POST", "/v1/embed", json: ["texts": ["x"], "model": .string(path)])
            #expect(r.status == 400 && r.errorCode == "invalid_model", "\(path)")
            #expect(r.json?["error"]?["message"] == JSONValue.string(
                "model must be the name of a folder in the server's models directory (e.g. all-MiniLM-L6-v2), not a path"))
        }
    }

    @Test(arguments: Backend.all) func storeErrorsAreTheirDocumented4xx(_ backend: Backend) async throws {
        let s = try await LiveServer(backend)
        defer { Task { await s.stop() } }
        let ids = (try await s.call("POST", "/v1/functions", json: sampleFunctions).json?["ids"]?.arrayValue ?? []).compactMap { $0.intValue }
        try #require(ids.count == 3)
        #expect(try await s.call("POST", "/v1/spaces", json: ["name": "sp", "kind": "body_mean", "dim": 3]).status == 201)
        #expect(try await s.call("PUT", "/v1/spaces/sp/vectors", json: ["ids": [.number(Double(ids[0]))], "vectors": [[1, 2, 3]]]).status == 200)
        let cases: [(String, String, JSONValue?, Int, String, String)] = [
            ("GET", "/v1/spaces/sp/vectors?ids=\(ids[0]),\(ids[1]),\(ids[2])", nil, 404, "unknown_vector", "ids \(ids[1]), \(ids[2]) have no vector in space 'sp'"),
            ("GET", "/v1/spaces/nope/vectors?ids=\(ids[0])", nil, 404, "unknown_space", "space 'nope' does not exist"),
            ("PUT", "/v1/spaces/nope/vectors", ["ids": [.number(Double(ids[0]))], "vectors": [[1, 2, 3]]], 404, "unknown_space", "space 'nope' does not exist"),
            ("PUT", "/v1/spaces/sp/vectors", ["ids": [.number(Double(ids[1])), 987_654], "vectors": [[1, 2, 3], [1, 2, 3]]],
             422, "unknown_function", "ids[1] = 987654 is not a stored function"),
            ("PUT", "/v1/spaces/sp/vectors", ["ids": [.number(Double(ids[1])), .number(Double(ids[1]))], "vectors": [[1, 2, 3], [1, 2, 3]]],
             400, "duplicate_ids", "ids[1] = \(ids[1]) repeats ids[0]; a batch holds each id once"),
            ("POST", "/v1/spaces", ["name": "sp", "kind": "body_mean", "dim": 3], 409, "space_exists", "space 'sp' already exists"),
            ("POST", "/v1/spaces", ["name": "a b", "kind": "body_mean", "dim": 3], 400, "invalid_space", "space name must be 1–200 characters of A–Z a–z 0–9 - _ . @ :"),
        ]
        for (method, path, body, status, code, message) in cases {
            let r = try await s.call(method, path, json: body)
            #expect(r.status == status && r.errorCode == code, "\(method) \(path): \(String(decoding: r.body, as: UTF8.self))")
            #expect(r.json?["error"]?["message"]?.stringValue == message, "\(method) \(path)")
        }
    }
}
