import InfillModel

/// One cursor through a canvas's blocks: the whole canvas left to right, or one gap of it.
///
/// LLaDA's semi-autoregressive decoding walks one lane through every block of the canvas, so a
/// document's fields are written one after another. With ``SamplingParameters/parallelGaps``
/// every gap has a lane of its own and all lanes advance in the same forward pass: a step costs
/// about as much for four fields as for one (a few-row pass reads every weight once either way),
/// so a document takes as many passes as its longest field instead of the sum of all of them.
struct DecodingLane {
    /// Indices into ``CanvasRun/blocks``, walked in order.
    var blocks: [Int]
    /// Position in ``blocks`` of the current block (`blocks.count` when the lane is done).
    var cursor = 0
    /// Steps taken in the current block.
    var step = 0
    /// The gap this lane fills, or nil for a lane over the whole canvas.
    var gap: Int?
    /// Parent guidance on a lane over one gap: the text before the gap as the parent reads it
    /// (the other gaps as far as they are written), taken again when the lane enters a block,
    /// and the block it was taken at.
    var parentContext: [TokenID] = []
    var parentContextBlock: Int?
    /// Parent guidance: the prefix the parent's cache holds, and the cache.
    var parentTokens: [TokenID] = []
    var parentKV: KVCache?

    init(blocks: [Int], gap: Int?) {
        self.blocks = blocks
        self.gap = gap
    }

    var isFinished: Bool { cursor >= blocks.count }

    /// The current block's index into ``CanvasRun/blocks``, nil when the lane is done.
    var currentBlock: Int? { isFinished ? nil : blocks[cursor] }

    /// The parent cache for `prefix`: the lane's own, cut back to where `prefix` departs from
    /// what it holds (a causal model's keys and values before that point stay exact), so the
    /// parent recomputes only the positions from there on.
    mutating func parentCache(for prefix: [TokenID]) -> KVCache {
        guard let kv = parentKV else {
            let kv = KVCache()
            parentKV = kv
            parentTokens = prefix
            return kv
        }
        var common = 0
        let limit = min(parentTokens.count, prefix.count, kv.length)
        while common < limit && parentTokens[common] == prefix[common] { common += 1 }
        // The last position is always recomputed, for its output row.
        kv.truncate(to: min(common, prefix.count - 1))
        parentTokens = prefix
        return kv
    }
}
