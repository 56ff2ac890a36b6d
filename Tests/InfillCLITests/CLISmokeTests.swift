import Foundation
import Testing

@Suite struct CLISmokeTests {
    @Test func helpExitsZero() throws {
        let result = try runInfill(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("infill"))
    }
}
