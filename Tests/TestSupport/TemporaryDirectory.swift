import Foundation

/// A fresh, empty directory under the system temporary folder, named `swejepa-LABEL-…`.
/// The test that makes one removes it at its end: `defer { removeTemporaryDirectory(dir) }`.
public func makeTemporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("swejepa-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Removes a directory made by `makeTemporaryDirectory` (and everything in it); a missing one is fine.
public func removeTemporaryDirectory(_ url: URL) {
    try? FileManager.default.removeItem(at: url)
}
