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
    /// The cursors through ``blocks``: one over the whole canvas, or one per gap.
    var lanes: [DecodingLane] = []
    var steps = 0
    var forwardPasses = 0
    var seconds: Double = 0
    var finished = false
    var history: [[TokenID]]?
    var timings = SamplingTimings()
    var keywordOffsets: [[Int]]
    /// Per gap, per keyword: how likely its first token was where it was written (see
    /// ``SamplingResult/keywordFit``).
    var keywordFit: [[Float]]
    /// The KV cache of this run (with ``SamplingParameters/cache``).
    var cache: KVCache?
    /// Each position's token when its keys and values were last computed into ``cache``: a
    /// position whose token changed since is recomputed by the next cached pass.
    var cachedTokens: [TokenID] = []
    /// The current block of each lane when the cache was last updated at a block boundary.
    var cachedBlocks: [Int?] = []
    /// Steps and blocks finished since the last full pass.
    var stepsSinceFullPass = 0
    var blocksSinceFullPass = 0
    /// Guided decoding writes keywords in the stream instead of pinning them first: per gap, the
    /// indices of its keywords not yet written.
    var pendingKeywords: [[Int]] = []
    /// Per gap: whether a due keyword that did not fit is waiting for the sentence to end, so it
    /// can open the next one (``StreamKeywords``); the bias then pushes towards a sentence end.
    var closingForKeyword: [Bool] = []
    /// Positions right before a keyword written where a sentence starts: the word that opens its
    /// sentence, drawn from the denoiser alone among the keyword's openers
    /// (``GapConstraints/openers(forKeyword:)``), by position.
    var openers: [Int: Set<TokenID>] = [:]

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
        keywordFit = canvas.gaps.map { [Float](repeating: 0, count: $0.constraints.keywords.count) }
    }

    var masksLeft: Int { tokens.reduce(0) { $0 + ($1 == maskTokenID ? 1 : 0) } }

    func isMasked(_ p: Int) -> Bool { tokens[p] == maskTokenID }

    /// Cuts the masked positions into blocks (per gap with `parallelGaps`) and splits `steps`
    /// (nil = one per mask) over them.
    mutating func planBlocks(blockLength: Int?, steps: Int?, parallelGaps: Bool = false) {
        let masked = tokens.indices.filter { tokens[$0] == maskTokenID }
        guard !masked.isEmpty else { finished = true; return }
        func chunks(_ positions: [Int]) -> [[Int]] {
            let length = blockLength ?? positions.count
            return stride(from: 0, to: positions.count, by: length).map {
                Array(positions[$0..<min(positions.count, $0 + length)])
            }
        }
        if parallelGaps {
            for (g, gap) in gaps.enumerated() {
                let first = blocks.count
                blocks += chunks(gap.range.filter { tokens[$0] == maskTokenID })
                if blocks.count > first { lanes.append(DecodingLane(blocks: Array(first..<blocks.count), gap: g)) }
            }
        } else {
            blocks = chunks(masked)
            lanes = [DecodingLane(blocks: Array(blocks.indices), gap: nil)]
        }
        blockSteps = StepSchedule.split(steps: steps ?? masked.count, blocks: blocks.count)
        cachedBlocks = lanes.map { _ in nil }
    }

    /// The most steps the run can take: its longest lane's step budget.
    var stepBudget: Int {
        lanes.map { $0.blocks.reduce(0) { $0 + blockSteps[$1] } }.max() ?? 0
    }

    /// Moves every lane past its finished blocks; marks the run finished when no masks are left.
    mutating func advanceBlock() {
        for l in lanes.indices {
            while let b = lanes[l].currentBlock, !blocks[b].contains(where: isMasked) {
                lanes[l].cursor += 1
                lanes[l].step = 0
                blocksSinceFullPass += 1
            }
        }
        if lanes.allSatisfy(\.isFinished) { finished = true }
    }

    /// How the next step uses the cache.
    enum CacheUse {
        /// A full pass that records it.
        case fullPass
        /// A pass over the active blocks and every position that changed since it was recorded.
        case rows
    }

    /// Whether the next step records the cache with a full pass: no cache yet, `interval` steps
    /// since the last one, or a lane entered a new block and `everyBlocks` blocks have finished
    /// since (nil = at every block boundary, Fast-dLLM's rule).
    func cacheUse(interval: Int?, everyBlocks: Int?) -> CacheUse {
        guard cache != nil else { return .fullPass }
        if let interval, stepsSinceFullPass >= interval { return .fullPass }
        let boundary = lanes.indices.contains { lanes[$0].currentBlock != cachedBlocks[$0] }
        if boundary && blocksSinceFullPass >= (everyBlocks ?? 1) { return .fullPass }
        return .rows
    }

    /// Notes that this step's pass updated the cache (all of it with `full`).
    mutating func cacheUpdated(full: Bool, rows: [Int]) {
        if full {
            cachedTokens = tokens
            stepsSinceFullPass = 0
            blocksSinceFullPass = 0
        } else {
            for p in rows { cachedTokens[p] = tokens[p] }
        }
        cachedBlocks = lanes.map(\.currentBlock)
        stepsSinceFullPass += 1
    }

    /// The positions a cached step recomputes: the lanes' current blocks (dual), or everything
    /// from the first of them on (prefix), and every position whose token changed since its
    /// keys and values were computed (a block just finished, a null tail).
    func recomputeRows(_ mode: CacheMode) -> [Int] {
        var rows = Set<Int>()
        var first = tokens.count
        for lane in lanes {
            guard let b = lane.currentBlock, let p = blocks[b].first else { continue }
            rows.formUnion(blocks[b])
            first = min(first, p)
        }
        if mode == .prefix && first < tokens.count { rows.formUnion(first..<tokens.count) }
        for p in tokens.indices where p < cachedTokens.count && tokens[p] != cachedTokens[p] { rows.insert(p) }
        return rows.sorted()
    }

    /// The text before `p` as lane `l`'s parent reads it (null tails removed), or nil while a
    /// mask precedes `p` there or nothing does.
    ///
    /// A lane over one gap reads the text before its gap with the other gaps as far as they are
    /// written (their masks left out), taken anew each time the lane enters a block, so the
    /// fields written side by side still read each other while the parent's cache is cut back
    /// only once a block; then its own gap up to `p`.
    mutating func parentPrefix(lane l: Int, before p: Int) -> [TokenID]? {
        guard p > 0, p <= tokens.count else { return nil }
        guard let own = lanes[l].gap else {
            var prefix: [TokenID] = []
            prefix.reserveCapacity(p)
            for q in 0..<p where !nullFilled[q] {
                if tokens[q] == maskTokenID { return nil }
                prefix.append(tokens[q])
            }
            return prefix.isEmpty ? nil : prefix
        }
        let start = gaps[own].range.lowerBound
        if lanes[l].parentContextBlock != lanes[l].currentBlock || lanes[l].parentContextBlock == nil {
            var context: [TokenID] = []
            context.reserveCapacity(start)
            for q in 0..<start where !nullFilled[q] && tokens[q] != maskTokenID { context.append(tokens[q]) }
            lanes[l].parentContext = context
            lanes[l].parentContextBlock = lanes[l].currentBlock
        }
        var prefix = lanes[l].parentContext
        for q in start..<p where !nullFilled[q] {
            if tokens[q] == maskTokenID { return nil }
            prefix.append(tokens[q])
        }
        return prefix.isEmpty ? nil : prefix
    }

    /// What the parent reads for context contrast at `p`: the canvas's first token (the start
    /// token) and the text of `p`'s own gap before `p`, without the document around it; nil
    /// when `p` is in no gap, a mask precedes it in its gap, or the gap opens the canvas.
    func plainPrefix(before p: Int) -> [TokenID]? {
        guard p > 0, p < tokens.count, gapOf[p] >= 0, gapOf[0] < 0 else { return nil }
        var prefix = [tokens[0]]
        for q in gaps[gapOf[p]].range.lowerBound..<p where !nullFilled[q] {
            if tokens[q] == maskTokenID { return nil }
            prefix.append(tokens[q])
        }
        return prefix
    }

    /// Still-masked positions of each unfinished lane's current block, by lane.
    var activeLanes: [(lane: Int, positions: [Int])] {
        lanes.indices.compactMap { l in
            guard let b = lanes[l].currentBlock else { return nil }
            return (l, blocks[b].filter(isMasked))
        }
    }

    /// Whether gap `g` still has keywords to write (guided decoding).
    func hasPendingKeywords(gap g: Int) -> Bool {
        g >= 0 && g < pendingKeywords.count && !pendingKeywords[g].isEmpty
    }

    /// Whether a keyword of gap `g` already written ends at position `q`.
    func endsKeyword(at q: Int, gap g: Int) -> Bool {
        let gap = gaps[g]
        for (k, keyword) in gap.constraints.keywords.enumerated() where g < keywordOffsets.count && k < keywordOffsets[g].count {
            let offset = keywordOffsets[g][k]
            if offset >= 0 && gap.range.lowerBound + offset + keyword.count - 1 == q { return true }
        }
        return false
    }

    /// The gap of canvas position `p`, or -1.
    func gap(of p: Int) -> Int { gapOf[p] }

    /// The last token before `p` that is not part of a null tail, nil when there is none or it is still masked.
    func token(before p: Int) -> TokenID? {
        var q = p - 1
        while q >= 0 && nullFilled[q] { q -= 1 }
        guard q >= 0, tokens[q] != maskTokenID else { return nil }
        return tokens[q]
    }

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
        var push = closing.weight(atOffset: p - gaps[g].range.lowerBound)
        // A keyword waiting for the sentence to end: the push to finish it is as strong as it gets.
        let waiting = g < closingForKeyword.count && closingForKeyword[g]
        if waiting { push = max(push, closing.strength) }
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
        if let allowed = openers[p], !allowed.contains(token) { return true }
        if p == gaps[g].range.lowerBound && constraints.firstTokenBans.contains(token) { return true }
        if constraints.afterKeywordBans.contains(token) && endsKeyword(at: p - 1, gap: g) { return true }
        if token != nullTokenID, let rules = constraints.repetition {
            // Every gap of the canvas, separated: one field must not repeat another's phrases either.
            var generated: [TokenID?] = []
            var offset = 0
            for gap in gaps {
                if gap.range.contains(p) { offset = generated.count + (p - gap.range.lowerBound) }
                for q in gap.range { generated.append(nullFilled[q] || tokens[q] == maskTokenID ? nil : tokens[q]) }
                generated.append(nil)
            }
            let left = neighbours(from: p - 1, step: -1, count: 8)
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
        var result = SamplingResult(
            tokens: text, canvasTokens: tokens, gapTokens: gapTokens, keywordOffsets: keywordOffsets,
            steps: steps, forwardPasses: forwardPasses, seconds: seconds, history: history)
        result.timings = timings
        result.keywordFit = keywordFit
        return result
    }
}
