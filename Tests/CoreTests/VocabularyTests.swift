import Foundation
import Testing
@testable import Core

/// The wire and store spelling of the shared enums (what openapi.yaml and the SQL CHECKs say).
@Test func sharedEnumsKeepTheirWireSpelling() throws {
    let encoded = try JSONEncoder().encode([Metric.cosine.rawValue, Metric.ip.rawValue, Metric.l2.rawValue])
    #expect(String(decoding: encoded, as: UTF8.self) == #"["cosine","ip","l2"]"#)
    #expect(JobState.allCases.map(\.rawValue) == ["queued", "running", "succeeded", "failed", "cancelled"])
    #expect(LogLevel.allCases.map(\.rawValue) == ["debug", "info", "warning", "error"])
    #expect(try JSONDecoder().decode(JobState.self, from: Data(#""cancelled""#.utf8)) == .cancelled)
    #expect(try JSONDecoder().decode(LogLevel.self, from: Data(#""warning""#.utf8)) == .warning)
    #expect(SpaceKind.teacherKinds.map(\.rawValue) == ["sig_tokens", "sig_mean", "body_mean", "body_only_mean", "body_tokens"])
    #expect(SpaceKind.defaultEmbedKinds.map(\.rawValue) == ["sig_tokens", "sig_mean", "body_mean", "body_only_mean"])
    #expect(SpaceKind.allCases.filter(\.isTokens) == [.sigTokens, .bodyTokens])
    #expect(SpaceKind.allCases.filter { $0.defaultDType == .float16 } == [.bodyTokens])
}

@Test func logLevelsParseAndOrder() {
    #expect(LogLevel(name: "WARN") == .warning)
    #expect(LogLevel(name: "Error") == .error)
    #expect(LogLevel(name: "verbose") == nil)
    #expect(LogLevel.allCases == LogLevel.allCases.sorted())
    #expect(LogLevel.debug < .info && LogLevel.info < .warning && LogLevel.warning < .error)
    #expect(!(LogLevel.error < .error))
}

@Test func finalJobStates() {
    #expect(JobState.allCases.filter(\.isFinal) == [.succeeded, .failed, .cancelled])
    #expect(Metric.allCases.filter(\.higherIsCloser) == [.cosine, .ip])
}
