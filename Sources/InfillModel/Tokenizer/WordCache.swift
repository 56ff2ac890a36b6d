import Synchronization

/// A bounded, thread-safe cache from a word's bytes to its token ids, so repeated words skip the
/// merge loop.
final class WordCache: Sendable {
    private let entries = Mutex<[[UInt8]: [TokenID]]>([:])
    private let capacity: Int

    /// A cache that forgets everything when it holds more than `capacity` words (simple, and
    /// text rarely has that many distinct words).
    init(capacity: Int = 50_000) {
        self.capacity = capacity
    }

    func lookup(_ word: [UInt8]) -> [TokenID]? {
        entries.withLock { $0[word] }
    }

    func store(_ word: [UInt8], _ ids: [TokenID]) {
        entries.withLock { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[word] = ids
        }
    }
}
