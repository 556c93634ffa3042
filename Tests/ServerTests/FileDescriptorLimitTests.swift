import Foundation
import Testing
@testable import Server

/// The socket budget keeps the process below its open-file limit: what is open already and a
/// headroom for the store's and jobs' later files are left out of it.
@Suite struct FileDescriptorLimitTests {
    @Test func theBudgetLeavesWhatIsOpenAndAHeadroom() {
        #expect(FileDescriptorLimit.socketBudget(limit: 256, inUse: 20) == 256 - 20 - 32)
        #expect(FileDescriptorLimit.socketBudget(limit: 4_096, inUse: 40) == 4_096 - 40 - 128)
        #expect(FileDescriptorLimit.socketBudget(limit: 1 << 20, inUse: 40) == (1 << 20) - 40 - 128)
        #expect(FileDescriptorLimit.socketBudget(limit: 40, inUse: 30) == 8)
        // Below the default connection cap's limit whenever the process has anything open.
        for limit in [64, 256, 1_024, 65_536] {
            #expect(FileDescriptorLimit.socketBudget(limit: limit, inUse: 16) < limit)
        }
    }
}
