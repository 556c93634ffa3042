import Foundation
import Testing
@testable import Training

/// A fixture file written by scripts/reference/training_numpy.py: `{"cases": [...]}`.
///
/// ```swift
/// static let cases: [Case] = referenceCases("training_reference.json")
/// #expect(referenceError(model.outputs, c.predictions) < 1e-4)
/// ```
struct ReferenceFixtureFile<Case: Decodable>: Decodable { var cases: [Case] }

/// The cases of `Fixtures/<name>` (empty when the file is missing or unreadable: each suite's
/// `fixturePresent` test fails then).
func referenceCases<Case: Decodable>(_ name: String, file: String = #filePath) -> [Case] {
    let url = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    guard let data = try? Data(contentsOf: url),
          let f = try? JSONDecoder().decode(ReferenceFixtureFile<Case>.self, from: data) else { return [] }
    return f.cases
}

/// Largest |swift − ref| / max(|ref|, 1e-2 · max|ref| of the tensor): relative error with a floor for
/// entries that are tiny next to the rest of their tensor.
func referenceError<S: Collection>(_ s: S, _ r: [Double]) -> Double where S.Element == Float {
    let scale = max(r.map(abs).max() ?? 0, 1e-12) * 1e-2
    var worst = 0.0
    for (x, ref) in zip(s, r) { worst = max(worst, abs(Double(x) - ref) / max(abs(ref), scale)) }
    return s.count == r.count ? worst : .infinity
}

/// Copies a fixture's parameters into `model` (Float32), after checking that the names match the
/// model's layout exactly and each tensor has the layout's size.
func loadReferenceParameters(_ params: [String: [Double]], into model: StudentModel<Float>) throws {
    #expect(Set(model.layout.entries.map(\.name)) == Set(params.keys))
    for e in model.layout.entries {
        let src = try #require(params[e.name])
        #expect(src.count == e.count, "\(e.name)")
        let dst = try #require(model.parameter(e.name))
        for i in 0..<min(e.count, src.count) { dst[i] = Float(src[i]) }
    }
}
