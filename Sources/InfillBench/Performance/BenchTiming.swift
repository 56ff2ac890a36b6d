#if canImport(Glibc)
import Glibc
#endif

/// The clocks of `infill bench`: best-of-n wall time and the process's peak memory.
package enum BenchTiming {
    /// Peak resident set size of this process in MiB (getrusage reports KiB on Linux).
    package static func peakResidentMiB() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// Best wall time of `body` over `repetitions` runs after one warm-up.
    package static func bestSeconds(repetitions: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) {
            let start = ContinuousClock.now
            try body()
            best = min(best, (ContinuousClock.now - start) / .seconds(1))
        }
        return best
    }
}
