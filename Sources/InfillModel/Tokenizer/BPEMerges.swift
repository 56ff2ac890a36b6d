/// The merge table of a byte-level BPE vocabulary, and the merge loop that turns one word's
/// bytes into token ids.
struct BPEMerges: Sendable {
    /// What merging a pair gives: its priority (lower merges first) and the merged token.
    struct Merge: Sendable {
        var rank: Int32
        var result: TokenID
    }

    /// Merges keyed by `left << 32 | right` token ids.
    private let table: [UInt64: Merge]

    init(table: [UInt64: Merge]) {
        self.table = table
    }

    static func key(_ left: TokenID, _ right: TokenID) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// The merge of `left` followed by `right`, if the vocabulary has one.
    func merge(_ left: TokenID, _ right: TokenID) -> Merge? {
        table[Self.key(left, right)]
    }

    /// Number of merges.
    var count: Int { table.count }

    /// Applies the merges to `symbols` (initially one token per byte) in rank order, leftmost
    /// first among equal ranks, exactly as HF `tokenizers` does.
    func apply(to symbols: inout [TokenID]) {
        if symbols.count < 2 { return }
        if symbols.count <= 48 {
            applyByScanning(&symbols)
        } else {
            applyWithHeap(&symbols)
        }
    }

    /// Quadratic but allocation-free: best for the short words that make up most text.
    func applyByScanning(_ symbols: inout [TokenID]) {
        while symbols.count > 1 {
            var bestRank = Int32.max
            var bestIndex = -1
            var bestResult: TokenID = 0
            for index in 0..<(symbols.count - 1) {
                if let merge = table[Self.key(symbols[index], symbols[index + 1])], merge.rank < bestRank {
                    bestRank = merge.rank
                    bestIndex = index
                    bestResult = merge.result
                }
            }
            if bestIndex < 0 { return }
            symbols[bestIndex] = bestResult
            symbols.remove(at: bestIndex + 1)
        }
    }

    /// `n log n` for long words (runs of spaces, minified code): a linked list of symbols and a
    /// min-heap of candidate merges ordered by (rank, position); stale candidates are skipped.
    func applyWithHeap(_ symbols: inout [TokenID]) {
        let count = symbols.count
        var ids = symbols
        var next = Array(1...count)  // `count` marks the end
        var previous = Array(-1..<(count - 1))
        var alive = [Bool](repeating: true, count: count)
        var heap = CandidateHeap()

        func push(_ left: Int) {
            let right = next[left]
            guard right < count, let merge = table[Self.key(ids[left], ids[right])] else { return }
            heap.push(Candidate(rank: merge.rank, left: Int32(left), right: Int32(right),
                                leftID: ids[left], rightID: ids[right], result: merge.result))
        }
        for index in 0..<(count - 1) { push(index) }

        while let candidate = heap.pop() {
            let left = Int(candidate.left), right = Int(candidate.right)
            // A merged symbol always gets a longer token, so unchanged ids prove the pair is current.
            guard alive[left], alive[right], next[left] == right,
                  ids[left] == candidate.leftID, ids[right] == candidate.rightID else { continue }
            ids[left] = candidate.result
            alive[right] = false
            next[left] = next[right]
            if next[right] < count { previous[next[right]] = left }
            if previous[left] >= 0 { push(previous[left]) }
            push(left)
        }
        symbols.removeAll(keepingCapacity: true)
        var index = 0
        while index < count {
            symbols.append(ids[index])
            index = next[index]
        }
    }
}

/// One possible merge of two adjacent symbols.
private struct Candidate {
    var rank: Int32
    var left: Int32
    var right: Int32
    var leftID: TokenID
    var rightID: TokenID
    var result: TokenID

    func precedes(_ other: Candidate) -> Bool {
        rank != other.rank ? rank < other.rank : left < other.left
    }
}

/// A binary min-heap of merge candidates.
private struct CandidateHeap {
    private var items: [Candidate] = []

    mutating func push(_ item: Candidate) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count && items[left].precedes(items[smallest]) { smallest = left }
                if right < items.count && items[right].precedes(items[smallest]) { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
