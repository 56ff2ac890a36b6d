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
    /// Parent guidance: the other gaps whose text the parent reads before this lane's gap,
    /// fixed at the lane's first guided step (the gaps finished by then), so its prefix only grows.
    var parentGaps: Set<Int>?
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

    /// The parent cache to extend to `prefix`: the lane's own while it holds an earlier prefix
    /// of it (committed tokens never change, so it normally does), a fresh one otherwise.
    mutating func parentCache(for prefix: [TokenID]) -> KVCache {
        if let kv = parentKV, parentTokens.count <= prefix.count, prefix.starts(with: parentTokens) {
            parentTokens = prefix
            return kv
        }
        let kv = KVCache()
        parentKV = kv
        parentTokens = prefix
        return kv
    }
}
