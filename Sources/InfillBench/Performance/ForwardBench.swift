import Foundation
import InfillModel

/// Forward passes at canvas 256 and 1024: tokens/s, achieved GFLOP/s and its share of the sgemm peak.
///
/// Each pass is the sampler's worst case: one bidirectional sequence with logits at every position.
/// Each repetition is paired with a window of 1024³ sgemm calls of the same length run just before
/// it, so `share_of_adjacent_sgemm` compares the two under the same machine load.
package struct ForwardBench: BenchSection {
    package static let name = "forward"

    package static func run(_ context: BenchContext) throws -> [String: Double] {
        let transformer = context.transformer
        let peak = context.results[SgemmPeakBench.name]?["peak_gflops"] ?? 0
        var result: [String: Double] = [:]
        var sgemm = SquareSgemm(size: 1024)
        let sgemmCall = { sgemm.call() }
        let sgemmFlops = sgemm.flops
        let sgemmSingle = BenchTiming.bestSeconds(repetitions: 3, sgemmCall)
        for canvas in context.canvases where canvas <= transformer.config.contextLength {
            var generator = SystemRandomNumberGenerator()
            let vocabulary = context.vocabulary
            let tokens = (0..<canvas).map { _ in TokenID(Int.random(in: 0..<vocabulary, using: &generator)) }
            let rows = Array(0..<canvas)
            let forward = { _ = try transformer.logits(sequences: [tokens], outputRows: [rows], attention: .bidirectional) }
            try forward()
            var best = Double.infinity, bestSgemm = 0.0
            for _ in 0..<(context.quick ? 1 : 3) {
                let calls = max(1, Int((best.isFinite ? best : 1) / sgemmSingle))
                let windowStart = ContinuousClock.now
                for _ in 0..<calls { sgemmCall() }
                let window = (ContinuousClock.now - windowStart) / .seconds(1)
                bestSgemm = max(bestSgemm, sgemmFlops * Double(calls) / window / 1e9)
                let start = ContinuousClock.now
                try forward()
                best = min(best, (ContinuousClock.now - start) / .seconds(1))
            }
            let gflops = transformer.flops(sequenceLengths: [canvas], outputRowCount: canvas) / best / 1e9
            result["canvas\(canvas)_seconds"] = best
            result["canvas\(canvas)_tokens_per_s"] = Double(canvas) / best
            result["canvas\(canvas)_gflops"] = gflops
            result["canvas\(canvas)_adjacent_sgemm_gflops"] = bestSgemm
            result["canvas\(canvas)_share_of_adjacent_sgemm"] = gflops / bestSgemm
            if peak > 0 { result["canvas\(canvas)_share_of_peak"] = gflops / peak }
            if let burst = context.results[SgemmPeakBench.name]?["burst_peak_gflops"], burst > 0 {
                result["canvas\(canvas)_share_of_burst_peak"] = gflops / burst
            }
        }
        return result
    }
}
