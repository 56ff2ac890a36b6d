import Foundation

/// The `sgemm` peak of this machine at this thread count.
///
/// Each size is timed over windows of repeated calls about as long as one forward pass (best of
/// three windows), the statistic the forward section uses too: on a shared machine a single
/// millisecond call can catch a quiet moment that no sustained computation sees. The best single
/// call is reported as `burst_peak_gflops` for comparison.
package struct SgemmPeakBench: BenchSection {
    package static let name = "sgemm"

    package static func run(_ context: BenchContext) throws -> [String: Double] {
        var result: [String: Double] = [:]
        var peak = 0.0, burst = 0.0
        let window = context.quick ? 0.3 : 1.0
        for size in context.quick ? [512, 1024] : [512, 1024, 1536] {
            var sgemm = SquareSgemm(size: size)
            let call = { sgemm.call() }
            let flops = sgemm.flops
            let single = BenchTiming.bestSeconds(repetitions: 5, call)
            burst = max(burst, flops / single / 1e9)
            let calls = max(1, Int(window / single))
            let seconds = BenchTiming.bestSeconds(repetitions: 3) {
                for _ in 0..<calls { call() }
            }
            let gflops = flops * Double(calls) / seconds / 1e9
            result["gflops_\(size)"] = gflops
            peak = max(peak, gflops)
        }
        result["peak_gflops"] = peak
        result["burst_peak_gflops"] = burst
        return result
    }
}
