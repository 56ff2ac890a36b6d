/// How many positions a step commits, on Dream's time grid `t = linspace(1, eps, steps + 1)`.
enum StepSchedule {
    /// The times `(t, s)` of step `step` (from 0) of `steps`.
    static func times(step: Int, of steps: Int, eps: Float) -> (t: Double, s: Double) {
        let d = (1 - Double(eps)) / Double(steps)
        return (1 - Double(step) * d, 1 - Double(step + 1) * d)
    }

    /// Positions to commit out of `masked` at step `step` of `steps`: `⌈masked · (1 − s/t)⌉`,
    /// everything on the last step.
    ///
    /// Dream floors this product; the ceiling spreads the remainder over the first steps (as LLaDA
    /// does) and never commits nothing while masks are left.
    static func count(masked: Int, step: Int, of steps: Int, eps: Float) -> Int {
        guard masked > 0 else { return 0 }
        if step >= steps - 1 { return masked }
        let (t, s) = times(step: step, of: steps, eps: eps)
        let k = Int((Double(masked) * (1 - s / t) - 1e-6).rounded(.up))
        return min(masked, max(1, k))
    }

    /// The probability that `origin` commits a masked position at step `step` of `steps`.
    static func originProbability(step: Int, of steps: Int, eps: Float) -> Double {
        if step >= steps - 1 { return 1 }
        let (t, s) = times(step: step, of: steps, eps: eps)
        return 1 - s / t
    }

    /// `total` steps split over `blocks` blocks, the remainder to the first ones, at least 1 each.
    static func split(steps total: Int, blocks: Int) -> [Int] {
        guard blocks > 0 else { return [] }
        let base = total / blocks
        let extra = total % blocks
        return (0..<blocks).map { max(1, base + ($0 < extra ? 1 : 0)) }
    }
}
