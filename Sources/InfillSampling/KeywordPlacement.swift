import Foundation
import InfillModel

/// Where to put a keyword in its gap: the free offset with the highest summed log-probability.
enum KeywordPlacement {
    /// The best offset of `keyword` inside `gap`, or `nil` when no free run can take it while
    /// leaving room for `remaining` (the lengths of the gap's keywords still to place).
    ///
    /// - Parameters:
    ///   - logProb: log-probability of a token at a canvas position (only masked positions are asked).
    ///   - free: whether a canvas position is still masked (not pinned, not another keyword).
    static func bestOffset(
        keyword: [TokenID], gap: Range<Int>, remaining: [Int],
        free: (Int) -> Bool, logProb: (Int, TokenID) -> Float
    ) -> Int? {
        let n = keyword.count
        guard n <= gap.count else { return nil }
        var freeMap = gap.map(free)
        var best: (offset: Int, score: Float)?
        for offset in 0...(gap.count - n) {
            guard (offset..<offset + n).allSatisfy({ freeMap[$0] }) else { continue }
            var score: Float = 0
            for (j, token) in keyword.enumerated() { score += logProb(gap.lowerBound + offset + j, token) }
            if let b = best, !(score > b.score) { continue }
            for i in offset..<offset + n { freeMap[i] = false }
            let fits = packs(remaining, into: runs(freeMap))
            for i in offset..<offset + n { freeMap[i] = true }
            if fits { best = (offset, score) }
        }
        return best?.offset
    }

    /// Lengths of the runs of `true` in `map`.
    static func runs(_ map: [Bool]) -> [Int] {
        var out: [Int] = []
        var current = 0
        for f in map {
            if f { current += 1 } else if current > 0 { out.append(current); current = 0 }
        }
        if current > 0 { out.append(current) }
        return out
    }

    /// Whether items of these lengths fit into bins of these capacities (exact search, capped).
    static func packs(_ items: [Int], into bins: [Int]) -> Bool {
        let items = items.sorted(by: >)
        var bins = bins
        var budget = 100_000
        func place(_ i: Int) -> Bool {
            if i == items.count { return true }
            budget -= 1
            if budget < 0 { return false }
            var tried = Set<Int>()
            for b in bins.indices where bins[b] >= items[i] && tried.insert(bins[b]).inserted {
                bins[b] -= items[i]
                if place(i + 1) { bins[b] += items[i]; return true }
                bins[b] += items[i]
            }
            return false
        }
        return place(0)
    }

    /// Log-softmax of a logit row over the samplable ids (mask id excluded): `logit − logsumexp`.
    static func logSumExp(_ row: ArraySlice<Float>, samplable: Int, mask: TokenID) -> Float {
        var m = -Float.infinity
        var i = row.startIndex
        for k in 0..<samplable where TokenID(k) != mask {
            let v = row[i + k]
            if v > m { m = v }
        }
        i = row.startIndex
        guard m > -.infinity else { return m }
        var sum: Float = 0
        for k in 0..<samplable where TokenID(k) != mask { sum += Foundation.exp(row[i + k] - m) }
        return m + Foundation.log(sum)
    }
}

extension DiffusionSampler {
    /// Places every keyword (longest first within a gap), one batched forward pass per round.
    func placeKeywords(_ runs: inout [CanvasRun], forwards: inout Int) throws {
        var queues: [[(gap: Int, keyword: Int)]] = runs.map { run in
            run.gaps.indices.flatMap { g in
                run.gaps[g].constraints.keywords.indices
                    .sorted { run.gaps[g].constraints.keywords[$0].count > run.gaps[g].constraints.keywords[$1].count }
                    .map { (gap: g, keyword: $0) }
            }
        }
        let samplable = min(model.logitWidth, model.samplableVocabularySize)
        while queues.contains(where: { !$0.isEmpty }) {
            try Task.checkCancellation()
            var requests: [PredictionRequest] = []
            var owners: [Int] = []
            for i in runs.indices {
                guard let next = queues[i].first else { continue }
                let positions = runs[i].gaps[next.gap].range.filter(runs[i].isMasked)
                guard !positions.isEmpty else {
                    throw SamplingError.keywordDoesNotFit(canvas: i, gap: next.gap, keyword: next.keyword)
                }
                requests.append(PredictionRequest(tokens: runs[i].tokens, positions: positions))
                owners.append(i)
            }
            let outputs = try predict(requests)
            forwards += 1
            for (r, i) in owners.enumerated() {
                runs[i].forwardPasses += 1
                let next = queues[i].removeFirst()
                let gap = runs[i].gaps[next.gap]
                let keyword = gap.constraints.keywords[next.keyword]
                let positions = requests[r].positions
                let matrix = outputs[r]
                var rowOf: [Int: Int] = [:]
                for (row, p) in positions.enumerated() { rowOf[p] = row }
                var lse: [Int: Float] = [:]
                let remaining = queues[i].filter { $0.gap == next.gap }.map { gap.constraints.keywords[$0.keyword].count }
                let run = runs[i]
                let mask = model.maskTokenID
                let offset = KeywordPlacement.bestOffset(
                    keyword: keyword, gap: gap.range, remaining: remaining, free: run.isMasked
                ) { p, token in
                    guard let row = rowOf[p] else { return -.infinity }
                    let values = matrix[row: row]
                    let norm: Float
                    if let cached = lse[p] { norm = cached } else {
                        norm = KeywordPlacement.logSumExp(values, samplable: samplable, mask: mask)
                        lse[p] = norm
                    }
                    return values[values.startIndex + Int(token)] - norm
                }
                guard let offset else {
                    throw SamplingError.keywordDoesNotFit(canvas: i, gap: next.gap, keyword: next.keyword)
                }
                for (j, token) in keyword.enumerated() { runs[i].tokens[gap.range.lowerBound + offset + j] = token }
                runs[i].keywordOffsets[next.gap][next.keyword] = offset
            }
        }
    }
}
