import Foundation

/// The reference fixture written by scripts/reference/analysis_sklearn.py.
struct SklearnFixture: Decodable {
    struct Scores: Decodable { let folds: [Double]; let mean: Double; let std: Double }
    struct ProbeCase: Decodable {
        let kind: String
        let n_splits: Int
        let seed: UInt64
        let test_folds: [[Int]]
        let permutation: [Int]
        let result: Scores
        let shuffled: Scores
        let trivial: Scores
        let alphas: [Double]?
    }
    struct Wide: Decodable {
        let n: Int, d: Int
        let X: [Float], y: [Double], groups: [Int]
        let n_splits: Int, seed: UInt64
        let test_folds: [[Int]]
        let permutation: [Int]
        let result: Scores, shuffled: Scores, trivial: Scores
        let alphas: [Double]
    }
    struct Layer: Decodable {
        let n: Int, d: Int
        let X: [Float]
        let mean_cosine: Double, std_cosine: Double, effective_rank: Double
        let singular_values: [Double]
    }
    let sklearn_version: String
    let alphas: [Double]
    let C: Double
    let n: Int, d: Int
    let X: [Float]
    let groups: [Int]
    let counts: [Int]
    let tokens: [Double]
    let y3: [Int]
    let y2: [Int]
    let kfold_5: [[Int]]
    let kfold_7: [[Int]]
    let groupkfold_function_4: [[Int]]
    let probes: [String: ProbeCase]
    let wide: Wide
    let layer: Layer

    static let shared: SklearnFixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/analysis_sklearn.json")
        let data = try! Data(contentsOf: url)
        return try! JSONDecoder().decode(SklearnFixture.self, from: data)
    }()
}
