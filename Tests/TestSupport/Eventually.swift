import Foundation

/// Polls `condition` every 50 ms until it holds or `seconds` pass, then asks once more:
/// a bound on waiting, never a timing assertion.
public func eventually(_ seconds: Double = 120, _ condition: () async throws -> Bool) async throws -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try await condition() { return true }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    return try await condition()
}
