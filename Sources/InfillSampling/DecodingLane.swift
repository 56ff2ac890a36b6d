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
    /// Parent guidance: the parent's cache over the canvas before the lead position.
    var parentSlot = ParentCacheSlot()
    /// Context contrast: the parent's cache over the lead's field alone.
    var plainSlot = ParentCacheSlot()

    init(blocks: [Int], gap: Int?) {
        self.blocks = blocks
        self.gap = gap
    }

    var isFinished: Bool { cursor >= blocks.count }

    /// The current block's index into ``CanvasRun/blocks``, nil when the lane is done.
    var currentBlock: Int? { isFinished ? nil : blocks[cursor] }
}

/// A parent KV cache and the prefix it holds, reused while prefixes grow.
struct ParentCacheSlot {
    var tokens: [TokenID] = []
    var kv: KVCache?

    /// The cache for `prefix`: this slot's own, cut back to where `prefix` departs from what it
    /// holds (a causal model's keys and values before that point stay exact), so the parent
    /// recomputes only the positions from there on.
    mutating func cache(for prefix: [TokenID]) -> KVCache {
        guard let kv else {
            let kv = KVCache()
            self.kv = kv
            tokens = prefix
            return kv
        }
        var common = 0
        let limit = min(tokens.count, prefix.count, kv.length)
        while common < limit && tokens[common] == prefix[common] { common += 1 }
        // The last position is always recomputed, for its output row.
        kv.truncate(to: min(common, prefix.count - 1))
        tokens = prefix
        return kv
    }
}
