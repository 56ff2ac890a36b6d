import COpenBLAS
import Foundation
import InfillModel

/// The packed matrix kernel against OpenBLAS's sgemm on the loaded model's own layer, side by side.
///
/// For a few row counts (a parent step, a cached block, a long block, a canvas) the first layer's
/// four products (q/k/v, output, gate/up, down) run once on the plain matrices through `sgemm`
/// and once on the packed copies the transformer uses; each is timed over windows of repeated
/// calls, best of three, so the ratio is measured in the same run under the same load.
package struct KernelBench: BenchSection {
    package static let name = "kernel"

    package static func run(_ context: BenchContext) throws -> [String: Double] {
        let transformer = context.transformer
        let c = transformer.config
        guard let layer = transformer.weights.layers.first else { return [:] }
        let h = c.hiddenSize
        var shapes: [(weight: [Float], packed: PackedMatrix, outputs: Int, inputs: Int)] = []
        for matrix in [layer.qkv, layer.output, layer.gateUp, layer.down] {
            // Only a dense model with packed copies has both forms to compare.
            guard let plain = matrix.denseValues, let packed = matrix.packed else { return [:] }
            shapes.append((plain, packed, matrix.rows, matrix.columns))
        }
        let flopsPerRow = shapes.reduce(0.0) { $0 + 2 * Double($1.outputs * $1.inputs) }
        let widest = shapes.map { max($0.outputs, $0.inputs) }.max() ?? h
        var result: [String: Double] = [:]
        let window = context.quick ? 0.1 : 0.4
        for rows in [1, 8, 64, 256] {
            let x = [Float](repeating: 0.01, count: rows * widest)
            var y = [Float](repeating: 0, count: rows * widest)
            func sgemm() {
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        for s in shapes {
                            s.weight.withUnsafeBufferPointer { w in
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(s.outputs), Int32(s.inputs),
                                            1, xp.baseAddress, Int32(s.inputs), w.baseAddress, Int32(s.inputs), 0, yp.baseAddress,
                                            Int32(s.outputs))
                            }
                        }
                    }
                }
            }
            func kernel() {
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        for s in shapes {
                            s.packed.multiply(xp.baseAddress!, rows: rows, ldx: s.inputs, into: yp.baseAddress!, ldy: s.outputs,
                                              accumulate: false, threads: context.threads)
                        }
                    }
                }
            }
            func gflops(_ body: () -> Void) -> Double {
                let once = BenchTiming.bestSeconds(repetitions: 3, body)
                let calls = max(1, Int(window / max(once, 1e-6)))
                let seconds = BenchTiming.bestSeconds(repetitions: 3) { for _ in 0..<calls { body() } }
                return flopsPerRow * Double(rows * calls) / seconds / 1e9
            }
            // OpenBLAS on all the threads, as a user of it would run it; the kernel shares its own panels out.
            let plain = BLASThreads.withOpenBLASThreads { gflops(sgemm) }, ours = gflops(kernel)
            result["sgemm_gflops_rows_\(rows)"] = plain
            result["packed_gflops_rows_\(rows)"] = ours
            result["speedup_rows_\(rows)"] = ours / plain
        }
        return result
    }
}
