import Dispatch
import Foundation
import InfillModel
import Synchronization

/// Whether two documents' passes run faster batched into one forward than side by side, as two
/// daemon workers with a core each run them today.
///
/// Two 300-token canvases (fewer for a small model's context), their caches recorded once; then the cached pass a document step makes
/// (8 recomputed rows, bidirectional) and the parent's (1 row, causal), each timed two ways in the
/// same run: side by side (two threads, one pass each, one thread per pass) and batched (one
/// pass over both sequences on the same two threads). Best of several windows; a ratio above 1
/// means batching would pay.
package struct BatchingBench: BenchSection {
    package static let name = "batching"

    package static func run(_ context: BenchContext) throws -> [String: Double] {
        let transformer = context.transformer
        // 300 tokens, or as many as a small model's context holds.
        let length = min(300, transformer.config.contextLength)
        guard context.threads >= 2, length >= 32 else { return [:] }
        var generator = SystemRandomNumberGenerator()
        let sequences = (0..<2).map { _ in
            (0..<length).map { _ in TokenID(Int.random(in: 0..<context.vocabulary, using: &generator)) }
        }
        let caches = [KVCache(), KVCache()]
        for (sequence, cache) in zip(sequences, caches) {
            _ = try transformer.logits(sequences: [sequence], outputRows: [[0]], attention: .bidirectional, recordingInto: [cache])
        }
        let threads = context.threads, saved = BLASThreads.current
        defer { BLASThreads.set(saved) }
        var result: [String: Double] = [:]
        for (key, rows, attention) in [("block8", Array((length / 2)..<(length / 2 + 8)), AttentionMode.bidirectional), ("parent1", [length - 1], .causal)] {
            let sideBySide = {
                BLASThreads.set(1)
                let failure = Mutex<(any Error)?>(nil)
                DispatchQueue.concurrentPerform(iterations: 2) { k in
                    do {
                        _ = try transformer.cachedLogits(
                            sequences: [sequences[k]], rows: [rows], outputRows: [rows], caches: [caches[k]], attention: attention)
                    } catch {
                        failure.withLock { $0 = error }
                    }
                }
                if let error = failure.withLock({ $0 }) { throw error }
            }
            let batched = {
                BLASThreads.set(threads)
                _ = try transformer.cachedLogits(
                    sequences: sequences, rows: [rows, rows], outputRows: [rows, rows], caches: caches, attention: attention)
            }
            let repetitions = context.quick ? 5 : 20
            let apart = try BenchTiming.bestSeconds(repetitions: repetitions, sideBySide)
            let together = try BenchTiming.bestSeconds(repetitions: repetitions, batched)
            result["\(key)_side_by_side_seconds"] = apart
            result["\(key)_batched_seconds"] = together
            result["\(key)_batched_speedup"] = apart / together
        }
        return result
    }
}
