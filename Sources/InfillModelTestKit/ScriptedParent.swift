import InfillModel
import Synchronization

/// A ``ParentModel`` whose next-token logits come from a closure of the prefix; it records every
/// prefix it was asked about and how many positions it had to compute beyond what each cache held.
package final class ScriptedParent: ParentModel {
    package typealias Script = @Sendable (_ prefix: [TokenID]) -> [Float]

    package let logitWidth: Int
    package let maxSequenceLength: Int
    private let script: Script
    /// Prefixes asked about, positions computed, and the prefix length each cache (by identity) holds.
    private let log = Mutex<(prefixes: [[TokenID]], computed: Int, held: [ObjectIdentifier: Int])>(([], 0, [:]))

    package init(logitWidth: Int, maxSequenceLength: Int = 4096, script: @escaping Script) {
        self.logitWidth = logitWidth
        self.maxSequenceLength = maxSequenceLength
        self.script = script
    }

    /// Every prefix asked about, in order.
    package var prefixes: [[TokenID]] { log.withLock { $0.prefixes } }
    /// Positions computed in all (a prefix's length minus what its cache already held).
    package var positionsComputed: Int { log.withLock { $0.computed } }

    package func nextTokenLogits(after prefixes: [[TokenID]], caches: [KVCache]) throws -> [LogitMatrix] {
        var out: [LogitMatrix] = []
        for (prefix, cache) in zip(prefixes, caches) {
            log.withLock {
                let held = $0.held[ObjectIdentifier(cache)] ?? 0
                $0.computed += prefix.count - (held <= prefix.count ? held : 0)
                $0.held[ObjectIdentifier(cache)] = prefix.count
                $0.prefixes.append(prefix)
            }
            out.append(LogitMatrix(rows: 1, width: logitWidth, values: script(prefix)))
        }
        return out
    }
}
