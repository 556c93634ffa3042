import Foundation
import Testing
@testable import Core

/// `APIError(_:)` is the one mapping from a thrown error to what clients see.
@Suite struct ErrorMappingTests {
    struct Plain: Error {}

    @Test func apiErrorsStayThemselves() {
        let e = APIError.notFound("no job 7", code: "unknown_job")
        #expect(APIError(e) == e)
        #expect(APIError.from(e) == e)
    }

    @Test func categoriesAnswerTheirStatus() {
        let expected: [ErrorCategory: Int] = [.invalidInput: 400, .notFound: 404, .conflict: 409, .unprocessable: 422,
                                              .tooLarge: 413, .unsupportedFormat: 415, .unavailable: 503, .storageFull: 507,
                                              .internalFailure: 500]
        #expect(Set(expected.keys) == Set(ErrorCategory.allCases))
        for (category, status) in expected {
            #expect(APIError.status(of: category) == status, "\(category)")
            #expect(category.isCallerFault == (status < 500), "\(category)")
        }
    }

    @Test func codecErrorsKeepTheirCodes() {
        let cases: [(NPYError, Int, String)] = [
            (.badNPY(".npy header truncated"), 400, "bad_npy"),
            (.badNPZ(".npz: truncated"), 400, "bad_npz"),
            (.unsupported(".npy dtype '>f4' is not supported"), 415, "unsupported_media_type"),
        ]
        for (error, status, code) in cases {
            #expect(error.category.isCallerFault)
            #expect(APIError(error) == APIError(status: status, code: code, message: error.description))
        }
        #expect(throws: NPYError.badNPY("body is not a .npy file (missing \\x93NUMPY magic)")) { try NPYArray(data: Data("no".utf8)) }
    }

    @Test func cancellationIsUnavailableAndTheRestInternal() {
        #expect(APIError(CancellationError()).status == 503 && APIError(CancellationError()).code == "cancelled")
        let other = APIError(Plain())
        #expect(other.status == 500 && other.code == "internal")
    }
}
