import InfillModel
import Testing

@testable import InfillModel

@Suite struct LogitMatrixTests {
    @Test func rowsAreSlicedRowMajor() {
        let m = LogitMatrix(rows: 2, width: 3, values: [1, 2, 3, 4, 5, 6])
        #expect(Array(m[row: 1]) == [4, 5, 6])
    }
}
