import Foundation
import Testing
@testable import Core

/// A fresh empty directory under the system temp directory, removed by the caller.
private func scratchDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("atomicfile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

private func listing(_ dir: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
}

@Test func atomicWriteStoresTheBytesAndLeavesNoTemporaryFile() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("config.json")
    try AtomicFile.write(Data("{\"a\": 1}".utf8), to: url)
    #expect(try Data(contentsOf: url) == Data("{\"a\": 1}".utf8))
    #expect(try listing(dir) == ["config.json"])
}

@Test func atomicWriteReplacesAnExistingFile() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("model.safetensors")
    try AtomicFile.write(Data(repeating: 7, count: 10_000), to: url)
    try AtomicFile.write(Data("new".utf8), to: url)
    #expect(try Data(contentsOf: url) == Data("new".utf8))
    #expect(try listing(dir) == ["model.safetensors"])
}

@Test func atomicWriteConcatenatesItsParts() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("index.faissidx")
    let head: [UInt8] = Array("SWJIDX01".utf8), body: [UInt8] = [0, 1, 2, 255]
    try head.withUnsafeBytes { h in try body.withUnsafeBytes { b in try AtomicFile.write(to: url, parts: [h, b]) } }
    #expect(try [UInt8](Data(contentsOf: url)) == head + body)
}

@Test func failedRenameRemovesTheTemporaryFileAndKeepsTheTarget() throws {
    // The target is a non-empty directory: the temporary file is written, then rename fails.
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let target = dir.appendingPathComponent("busy")
    try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
    try Data("keep".utf8).write(to: target.appendingPathComponent("inside"))
    #expect(throws: AtomicFile.Failure.self) { try AtomicFile.write(Data("x".utf8), to: target) }
    #expect(try listing(dir) == ["busy"])
    #expect(try listing(target) == ["inside"])
}

@Test func writeIntoAMissingDirectoryFailsWithoutCreatingIt() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("missing/file.bin")
    do {
        try AtomicFile.write(Data("x".utf8), to: url)
        Issue.record("expected a failure")
    } catch let e as AtomicFile.Failure {
        #expect(e.path.hasPrefix(dir.appendingPathComponent("missing").path))
    }
    #expect(try listing(dir) == [])
}
