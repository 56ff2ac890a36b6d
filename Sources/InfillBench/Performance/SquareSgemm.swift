import COpenBLAS
import Foundation
import InfillModel

/// One `size`×`size` single-precision matrix product on OpenBLAS, the yardstick of `infill bench`.
struct SquareSgemm {
    let size: Int
    private let a: [Float], b: [Float]
    private var c: [Float]

    init(size: Int) {
        self.size = size
        a = [Float](repeating: 0.5, count: size * size)
        b = [Float](repeating: 0.25, count: size * size)
        c = [Float](repeating: 0, count: size * size)
    }

    /// Floating-point operations of one call.
    var flops: Double { 2 * pow(Double(size), 3) }

    /// Runs the product once, OpenBLAS on the engine's thread count (it is kept on one otherwise).
    mutating func call() {
        let n = Int32(size)
        BLASThreads.withOpenBLASThreads {
            c.withUnsafeMutableBufferPointer { out in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, a, n, b, n, 0, out.baseAddress, n)
            }
        }
    }
}
