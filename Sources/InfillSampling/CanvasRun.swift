import InfillModel

/// The mutable state of one canvas during a sampling call, and the rules a commit must obey
/// (null tails, banned sequences).
struct CanvasRun {
    let index: Int
    let gaps: [Gap]
    let maskTokenID: TokenID
    let nullTokenID: TokenID
    var tokens: [TokenID]
    /// The gap of each position, or -1.
    let gapOf: [Int]
    /// Positions filled by a null tail (skipped when checking banned sequences: they are removed).
    var nullFilled: [Bool]
    var rng: SeededGenerator
    /// Masked positions of each block, in canvas order (fixed when denoising starts).
    var blocks: [[Int]] = []
    var blockSteps: [Int] = []
    var block = 0
    var stepInBlock = 0
    var steps = 0
    var forwardPasses = 0
    var seconds: Double = 0
    var finished = false
    var history: [[TokenID]]?
    var keywordOffsets: [[Int]]
    /// The KV cache of this run (with ``SamplingParameters/cache``), the block it was recorded
    /// for and the step of that block when it was.
    var cache: KVCache?
    var cachedBlock = -1
    var cachedStep = 0
    /// Guided decoding writes keywords in the stream instead of pinning them first: per gap, the
    /// indices of its keywords not yet written.
    var pendingKeywords: [[Int]] = []
    /// Parent guidance: the prefix the parent's cache holds, and the cache.
    var parentTokens: [TokenID] = []
    var parentKV: KVCache?

    init(index: Int, canvas: Canvas, model: any DenoisingModel, seed: UInt64) {
        self.index = index
        gaps = canvas.gaps
        maskTokenID = model.maskTokenID
        nullTokenID = model.nullTokenID
        var tokens = canvas.tokens
        for (position, token) in canvas.pins { tokens[position] = token }
        self.tokens = tokens
        var gapOf = [Int](repeating: -1, count: tokens.count)
        for (g, gap) in canvas.gaps.enumerated() { for p in gap.range { gapOf[p] = g } }
        self.gapOf = gapOf
        nullFilled = [Bool](repeating: false, count: tokens.count)
        rng = SeededGenerator(seed: seed)
        keywordOffsets = canvas.gaps.map { [Int](repeating: -1, count: $0.constraints.keywords.count) }
    }

    var masksLeft: Int { tokens.reduce(0) { $0 + ($1 == maskTokenID ? 1 : 0) } }

    func isMasked(_ p: Int) -> Bool { tokens[p] == maskTokenID }

    /// Cuts the masked positions into blocks and splits `steps` (nil = one per mask) over them.
    mutating func planBlocks(blockLength: Int?, steps: Int?) {
        let masked = tokens.indices.filter { tokens[$0] == maskTokenID }
        guard !masked.isEmpty else { finished = true; return }
        let length = blockLength ?? masked.count
        blocks = stride(from: 0, to: masked.count, by: length).map {
            Array(masked[$0..<min(masked.count, $0 + length)])
        }
        blockSteps = StepSchedule.split(steps: steps ?? masked.count, blocks: blocks.count)
    }

    /// Moves past finished blocks; marks the run finished when no masks are left.
    mutating func advanceBlock() {
        while block < blocks.count && !blocks[block].contains(where: isMasked) {
            block += 1
            stepInBlock = 0
        }
        if block >= blocks.count { finished = true }
    }

    /// Whether the next step must record the cache with a full pass.
    func needsRefresh(interval: Int?) -> Bool {
        guard cache != nil, cachedBlock == block else { return true }
        if let interval, stepInBlock - cachedStep >= interval { return true }
        return false
    }

    /// Notes that this step records the cache.
    mutating func cacheRefreshed() {
        cachedBlock = block
        cachedStep = stepInBlock
    }

    /// The positions a cached step recomputes: the current block (dual), or everything from the
    /// block's first position on (prefix).
    func recomputeRows(_ mode: CacheMode) -> [Int] {
        let positions = blocks[block]
        guard let first = positions.first else { return [] }
        switch mode {
        case .prefix: return Array(first..<tokens.count)
        case .dual, .none: return positions
        }
    }

    /// The text before `p` as the parent reads it (null tails removed), or nil while a mask
    /// precedes `p` or nothing does.
    func parentPrefix(before p: Int) -> [TokenID]? {
        guard p > 0, p <= tokens.count else { return nil }
        var prefix: [TokenID] = []
        prefix.reserveCapacity(p)
        for q in 0..<p where !nullFilled[q] {
            if tokens[q] == maskTokenID { return nil }
            prefix.append(tokens[q])
        }
        return prefix.isEmpty ? nil : prefix
    }

    /// The parent cache to extend to `prefix`: the run's own while it holds an earlier prefix
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

    /// Still-masked positions of the current block.
    var activePositions: [Int] { blocks[block].filter(isMasked) }

    /// Whether gap `g` still has keywords to write (guided decoding).
    func hasPendingKeywords(gap g: Int) -> Bool {
        g >= 0 && g < pendingKeywords.count && !pendingKeywords[g].isEmpty
    }

    /// The gap of canvas position `p`, or -1.
    func gap(of p: Int) -> Int { gapOf[p] }

    /// Whether the null token may be committed at `p` now.
    func allowsNull(at p: Int) -> Bool {
        let g = gapOf[p]
        guard g >= 0 else { return false }
        let gap = gaps[g]
        guard gap.constraints.allowsNullTail, p - gap.range.lowerBound >= gap.constraints.minTokens,
              !hasPendingKeywords(gap: g) else {
            return false
        }
        var q = p + 1
        while q < gap.range.upperBound {
            if tokens[q] != maskTokenID && !nullFilled[q] { return false }
            q += 1
        }
        return true
    }

    func bias(at p: Int) -> [TokenID: Float] {
        let g = gapOf[p]
        guard g >= 0 else { return [:] }
        let constraints = gaps[g].constraints
        guard let closing = constraints.closing else { return constraints.logitBias }
        let push = closing.weight(atOffset: p - gaps[g].range.lowerBound)
        guard push > 0 else { return constraints.logitBias }
        var bias = constraints.logitBias
        // After a sentence end: end the gap; otherwise: finish the sentence.
        if let previous = neighbours(from: p - 1, step: -1, count: 1).first, closing.sentenceEnds.contains(previous) {
            for id in constraints.endTokens { bias[id, default: 0] += push }
            bias[nullTokenID, default: 0] += push
        } else {
            // Half as hard: a full push turns phrases into fragments ("increased. by. a.").
            for id in closing.sentenceEnds { bias[id, default: 0] += push / 2 }
        }
        return bias
    }

    /// Whether committing `token` at `p` now breaks a rule (null placement, an end token where
    /// the gap may not end yet, a banned sequence, a repetition rule).
    func forbids(_ token: TokenID, at p: Int) -> Bool {
        if token == nullTokenID && !allowsNull(at: p) { return true }
        return rejects(token, at: p)
    }

    /// Whether a sampled `token` may not be taken at `p` (the null token's own placement is
    /// decided by the distribution, which excludes it where ``allowsNull(at:)`` is false).
    func rejects(_ token: TokenID, at p: Int) -> Bool {
        let g = gapOf[p]
        guard g >= 0 else { return false }
        let constraints = gaps[g].constraints
        if constraints.endTokens.contains(token) {
            // An end token becomes the null tail here; its own junction is checked as the null's.
            return !allowsNull(at: p) || completesBanned(nullTokenID, at: p)
        }
        if completesBanned(token, at: p) { return true }
        if p == gaps[g].range.lowerBound && constraints.firstTokenBans.contains(token) { return true }
        if token != nullTokenID, let rules = constraints.repetition {
            // Every gap of the canvas, separated: one field must not repeat another's phrases either.
            var generated: [TokenID?] = []
            var offset = 0
            for gap in gaps {
                if gap.range.contains(p) { offset = generated.count + (p - gap.range.lowerBound) }
                for q in gap.range { generated.append(nullFilled[q] || tokens[q] == maskTokenID ? nil : tokens[q]) }
                generated.append(nil)
            }
            let left = neighbours(from: p - 1, step: -1, count: 4)
            let right = neighbours(from: p + 1, step: 1, count: 4)
            if rules.rejects(token, left: left, right: right, gapTokens: generated, offset: offset) {
                return true
            }
        }
        return false
    }

    /// Whether `token` at `p` would complete one of its gap's banned sequences with the tokens
    /// present on both sides (null tails skipped, since they are removed from the text).
    func completesBanned(_ token: TokenID, at p: Int) -> Bool {
        let g = gapOf[p]
        guard g >= 0 else { return false }
        let banned = gaps[g].constraints.bannedSequences
        guard !banned.isEmpty else { return false }
        let reach = banned.reduce(0) { max($0, $1.count) }
        if token == nullTokenID && allowsNull(at: p) {
            // The tail p..<end vanishes: its left and right neighbours become adjacent.
            let left = neighbours(from: p - 1, step: -1, count: reach)
            let right = neighbours(from: gaps[g].range.upperBound, step: 1, count: reach)
            for seq in banned where seq.count >= 2 {
                for cut in 1..<seq.count where cut <= left.count && seq.count - cut <= right.count {
                    if (0..<cut).allSatisfy({ seq[cut - 1 - $0] == left[$0] })
                        && (cut..<seq.count).allSatisfy({ seq[$0] == right[$0 - cut] }) {
                        return true
                    }
                }
            }
            return false
        }
        let left = neighbours(from: p - 1, step: -1, count: reach)
        let right = neighbours(from: p + 1, step: 1, count: reach)
        for seq in banned {
            for j in seq.indices where seq[j] == token {
                guard j <= left.count, seq.count - 1 - j <= right.count else { continue }
                if (0..<j).allSatisfy({ seq[j - 1 - $0] == left[$0] })
                    && (j + 1..<seq.count).allSatisfy({ seq[$0] == right[$0 - j - 1] }) {
                    return true
                }
            }
        }
        return false
    }

    /// Up to `count` present tokens walking from `start` by `step`, skipping null tails and
    /// stopping at a mask or the canvas edge.
    private func neighbours(from start: Int, step: Int, count: Int) -> [TokenID] {
        var out: [TokenID] = []
        var q = start
        while out.count < count && q >= 0 && q < tokens.count {
            if nullFilled[q] { q += step; continue }
            if tokens[q] == maskTokenID { break }
            out.append(tokens[q])
            q += step
        }
        return out
    }

    /// Writes `token` at `p`; a null (or one of the gap's end tokens) fills the rest of the
    /// gap's masks with the null tail.
    mutating func commit(_ token: TokenID, at p: Int) {
        if gapOf[p] >= 0 && (token == nullTokenID || gaps[gapOf[p]].constraints.endTokens.contains(token)) {
            let end = gaps[gapOf[p]].range.upperBound
            for q in p..<end where tokens[q] == maskTokenID {
                tokens[q] = nullTokenID
                nullFilled[q] = true
            }
        } else {
            tokens[p] = token
        }
    }

    /// The result of the finished run.
    func result() -> SamplingResult {
        var text: [TokenID] = []
        text.reserveCapacity(tokens.count)
        for p in tokens.indices where !nullFilled[p] { text.append(tokens[p]) }
        let gapTokens = gaps.map { gap in gap.range.filter { !nullFilled[$0] }.map { tokens[$0] } }
        return SamplingResult(
            tokens: text, canvasTokens: tokens, gapTokens: gapTokens, keywordOffsets: keywordOffsets,
            steps: steps, forwardPasses: forwardPasses, seconds: seconds, history: history)
    }
}
