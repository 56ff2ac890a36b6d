import Foundation
import InfillModel

/// Keywords written into the stream during guided (left-to-right) decoding.
///
/// Pinning keywords before denoising (``DiffusionSampler/placeKeywords(_:forwards:)``) picks
/// their offsets from one look at an all-mask gap; a left-to-right fill then has to bend its
/// sentence around them ("I excited to …"). Under guidance each keyword is instead written at the
/// leftmost masked position of its gap as soon as its first token is likely there (at least a
/// quarter of the most likely token's probability under the guided distribution, with the gap's
/// bias, a bar that falls quadratically to zero over the last stretch before the keyword is due),
/// and at the latest where the rest of the gap — up to the middle of its closing pressure, so the
/// sentence can still end — has just room for the keywords still to write. Until then the gap may not end, and only its
/// leftmost position is committed, so the run of masks a keyword needs is always there.
///
/// A gap with ``GapConstraints/keywordOpeners`` does not force a keyword into a sentence that is
/// not heading for it: in the last half of the run-up, where the keyword's fit is below
/// ``forcedFitBar``, the closing push at full strength ends the sentence, and at the next sentence
/// start a lowercase keyword is written one position on, after an opener (`The`, `Your`) that the
/// denoiser alone draws seeing the keyword on its right (the keyword's own openers,
/// ``GapConstraints/openers(forKeyword:)``: a subject before a verb); a capitalised one opens
/// the sentence.
enum StreamKeywords {
    /// Ratio to the top token's probability from which a keyword's first token triggers it.
    static let triggerRatio: Float = 0.25
    /// Below this fit (log of the keyword's first token's probability over the top token's) a
    /// keyword near its deadline waits for the sentence to end instead of being forced into it.
    static let forcedFitBar: Float = -3

    /// Registers every gap's keywords as pending; throws when a gap cannot hold its keywords.
    static func prepare(_ runs: inout [CanvasRun]) throws {
        for i in runs.indices {
            runs[i].pendingKeywords = runs[i].gaps.map { Array($0.constraints.keywords.indices) }
            runs[i].closingForKeyword = [Bool](repeating: false, count: runs[i].gaps.count)
            for (g, gap) in runs[i].gaps.enumerated() {
                let need = gap.constraints.keywords.reduce(0) { $0 + $1.count }
                let free = gap.range.filter(runs[i].isMasked).count
                if need > free, let k = gap.constraints.keywords.indices.last {
                    throw SamplingError.keywordDoesNotFit(canvas: runs[i].index, gap: g, keyword: k)
                }
            }
        }
    }

    /// Writes a pending keyword of `lead`'s gap at `lead` when it is due or likely there.
    ///
    /// - Parameter row: the distribution's logits at `lead` (guided when a parent is used), before bias.
    /// - Returns: whether a keyword was written (the step commits nothing else in that gap).
    static func write(at lead: Int, row: ArraySlice<Float>, run: inout CanvasRun) -> Bool {
        let g = run.gap(of: lead)
        guard run.hasPendingKeywords(gap: g) else { return false }
        let gap = run.gaps[g]
        let keywords = gap.constraints.keywords
        let offset = lead - gap.range.lowerBound
        let pending = run.pendingKeywords[g]
        let need = pending.reduce(0) { $0 + keywords[$1].count }
        // The latest offset that still leaves room for every pending keyword before the gap's
        // end (or before the middle of its closing pressure, leaving room to finish the sentence).
        let end = min(gap.constraints.closing.map { max(($0.from + $0.full) / 2, need) } ?? gap.range.count, gap.range.count)
        let due = offset >= end - need
        let bias = run.bias(at: lead)
        func logit(_ t: TokenID) -> Float {
            guard t >= 0, Int(t) < row.count else { return -.infinity }
            return row[row.startIndex + Int(t)] + (bias[t] ?? 0)
        }
        var top = -Float.infinity
        for t in 0..<row.count where TokenID(t) != run.maskTokenID && TokenID(t) != run.nullTokenID {
            top = max(top, row[row.startIndex + t] + (bias[TokenID(t)] ?? 0))
        }
        // The bar falls as the keyword comes due, so it lands where it fits best in the run-up
        // rather than wherever the deadline strikes.
        let slack = end - need - offset
        let window = max(4, (end - need) / 2)
        let ratio = triggerRatio * pow(min(1, Float(max(slack, 0)) / Float(window)), 2)
        let threshold = ratio > 0 ? top + Foundation.log(ratio) : -.infinity
        let fitting = pending.filter { k in
            let n = keywords[k].count
            return offset + n <= gap.range.count && (lead..<lead + n).allSatisfy(run.isMasked)
        }
        // A lowercase keyword waits for the sentence to get going rather than open it.
        let sentenceStart = !gap.constraints.midSentenceKeywords.isEmpty
            && (run.token(before: lead).map(gap.constraints.sentenceBoundaries.contains) ?? false)
        let likely = fitting.filter { k in
            !(sentenceStart && gap.constraints.midSentenceKeywords.contains(k))
                && (keywords[k].first.map { logit($0) >= threshold } ?? false)
        }
        let natural = likely.max { logit(keywords[$0][0]) < logit(keywords[$1][0]) }
        // The last half of the run-up: a keyword the sentence is not heading for gets ready to
        // open the next sentence instead of being forced into this one at the deadline.
        let late = slack <= window / 2
        let k: Int
        if let natural, !due {
            k = natural
        } else if let pick = natural ?? (late ? fitting.max(by: { keywords[$0].count < keywords[$1].count }) : nil) {
            k = pick
        } else {
            return false
        }
        guard let first = keywords[k].first else { return false }
        let fit = top > -.infinity ? max(-30, min(0, logit(first) - top)) : 0
        let openers = gap.constraints.openers(forKeyword: k)
        if natural == nil || due, let closing = gap.constraints.closing, !openers.isEmpty {
            let boundaries = gap.constraints.sentenceBoundaries.isEmpty ? closing.sentenceEnds : gap.constraints.sentenceBoundaries
            let opensSentence = run.token(before: lead).map(boundaries.contains) ?? true
            let n = keywords[k].count
            if opensSentence, gap.constraints.midSentenceKeywords.contains(k), offset + 1 + n <= gap.range.count,
               (lead + 1..<lead + 1 + n).allSatisfy(run.isMasked) {
                // A lowercase keyword goes one position on, and the lead waits a step: its
                // opener is then drawn seeing the keyword on its right ("Your vaccination"),
                // which the denoiser's row for it did not. Its fit is the one it had here, so
                // the document layer's repair still gets its chance to weave it in.
                write(k, at: lead + 1, offset: offset + 1, fit: fit, run: &run)
                run.openers[lead] = openers
                return true
            }
            if opensSentence {
                write(k, at: lead, offset: offset, fit: fit, run: &run)
                return true
            }
            // Forced in here it would break the sentence ("at 10 vaccination time"): push to
            // finish it, up to halfway from where the keyword is due to where the closing
            // pressure is full, so the sentence it opens still ends within the field's length.
            if fit < forcedFitBar, offset + 1 < (end + closing.full) / 2 - need {
                if g < run.closingForKeyword.count { run.closingForKeyword[g] = true }
                return false
            }
        }
        guard due || natural != nil else { return false }
        write(k, at: lead, offset: offset, fit: fit, run: &run)
        return true
    }

    /// Writes keyword `k` of `lead`'s gap at canvas position `position` (gap offset `offset`).
    private static func write(_ k: Int, at position: Int, offset: Int, fit: Float, run: inout CanvasRun) {
        let g = run.gap(of: position)
        for (j, token) in run.gaps[g].constraints.keywords[k].enumerated() { run.tokens[position + j] = token }
        run.keywordOffsets[g][k] = offset
        run.keywordFit[g][k] = fit
        run.pendingKeywords[g].removeAll { $0 == k }
        if g < run.closingForKeyword.count { run.closingForKeyword[g] = false }
    }
}
