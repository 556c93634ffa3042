import Core
import Testing
@testable import Analysis

/// Analysis errors from bad input or unanalysable data are 4xx; only a LAPACK failure is ours.
@Suite struct AnalysisErrorTests {
    static let cases: [(AnalysisError, Int, String)] = [
        (.shapeMismatch("x has 3 values, expected 2×2"), 400, "wrong_dimension"),
        (.invalidArgument("k must be positive"), 400, "invalid_parameter"),
        (.tooFewGroups(groups: 2, folds: 3), 422, "too_few_groups"),
        (.singleClass(fold: 0, label: 1), 422, "single_class"),
        (.nonFinite("x"), 422, "non_finite"),
        (.zeroVector(index: 4), 422, "zero_vector"),
    ]

    @Test func callersFaultsAreNot500s() {
        for (error, status, code) in Self.cases {
            #expect(error.category.isCallerFault, "\(error)")
            let api = APIError(error)
            #expect(api.status == status && api.code == code && api.message == error.description, "\(api)")
        }
        #expect(APIError(AnalysisError.lapack(routine: "dsyevd", info: 3)).status == 500)
    }

    @Test func tooFewGroupsComesFromARealSplit() {
        do { _ = try GroupKFold.split(groups: [1, 1, 2], folds: 3); Issue.record("3 folds of 2 groups") }
        catch let e as AnalysisError { #expect(e.code == "too_few_groups" && APIError(e).status == 422, "\(e)") }
        catch { Issue.record("\(error)") }
    }
}
