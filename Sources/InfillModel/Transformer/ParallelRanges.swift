import Dispatch

/// Contiguous shares of a range of rows or panels, run on one thread each: how the engine splits
/// a product over ``BLASThreads`` (OpenBLAS itself stays on one thread).
enum ParallelRanges {
    /// Runs `body` on up to `parts` contiguous, non-empty, disjoint parts of `range`, concurrently
    /// when there is more than one (inline otherwise).
    ///
    /// `body` may write through raw pointers it captures as long as each part writes only its own
    /// outputs; that is the whole contract, which is why the box below is `@unchecked Sendable`.
    static func run(_ range: Range<Int>, parts: Int, _ body: (Range<Int>) -> Void) {
        let parts = min(max(parts, 1), range.count)
        guard parts > 1 else {
            if !range.isEmpty { body(range) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = Body(run: body)
            DispatchQueue.concurrentPerform(iterations: parts) { k in
                let lower = range.lowerBound + range.count * k / parts
                let upper = range.lowerBound + range.count * (k + 1) / parts
                if lower < upper { shared.run(lower..<upper) }
            }
        }
    }

    private struct Body: @unchecked Sendable {
        let run: (Range<Int>) -> Void
    }
}
