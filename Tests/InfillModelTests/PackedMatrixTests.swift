import CInfillKernels
import InfillModel
import Testing

/// The packed few-row matrix kernel against a plain double-precision product, on every code path
/// this CPU has (AVX-512, AVX2 + FMA, portable), odd shapes, accumulation and threads.
@Suite(.serialized) struct PackedMatrixTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
    }

    static func check(rows: Int, outputs: Int, inputs: Int, accumulate: Bool, threads: Int, seed: UInt64) {
        var g = Generator(state: seed)
        let w = (0..<(outputs * inputs)).map { _ in g.next() }
        let ldx = inputs + 3
        let x = (0..<(rows * ldx)).map { _ in g.next() }
        let start = (0..<(rows * outputs)).map { _ in g.next() }
        var y = start
        let packed = PackedMatrix(w, outputs: outputs, inputs: inputs)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                packed.multiply(xp.baseAddress!, rows: rows, ldx: ldx, into: yp.baseAddress!, ldy: outputs,
                                accumulate: accumulate, threads: threads)
            }
        }
        var worst = 0.0
        for m in 0..<rows {
            for n in 0..<outputs {
                var s = accumulate ? Double(start[m * outputs + n]) : 0
                for k in 0..<inputs { s += Double(x[m * ldx + k]) * Double(w[n * inputs + k]) }
                worst = max(worst, abs(Double(y[m * outputs + n]) - s) / max(1, abs(s)))
            }
        }
        #expect(worst < 1e-5, "rows \(rows) outputs \(outputs) inputs \(inputs) accumulate \(accumulate): error \(worst)")
    }

    @Test func everyPathMatchesThePlainProduct() {
        let cpu = Int(infill_kernel_level())
        defer { infill_limit_kernel_level(-1) }
        for level in 0...cpu {
            infill_limit_kernel_level(Int32(level))
            #expect(Int(infill_kernel_level()) == level)
            var seed: UInt64 = 1
            for (outputs, inputs) in [(1, 1), (63, 7), (64, 16), (65, 17), (130, 40)] {
                for rows in [1, 2, 3, 5, 6, 7, 9] {
                    for accumulate in [false, true] {
                        Self.check(rows: rows, outputs: outputs, inputs: inputs, accumulate: accumulate, threads: 1, seed: seed)
                        seed += 1
                    }
                }
            }
        }
    }

    @Test func threadsShareThePanels() {
        for threads in [2, 3, 8] {
            Self.check(rows: 40, outputs: 200, inputs: 33, accumulate: true, threads: threads, seed: UInt64(threads))
        }
    }
}
