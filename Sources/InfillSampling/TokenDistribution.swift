import Foundation
import InfillModel

/// One masked position's candidate token and how sure the model is of it.
struct Candidate: Sendable {
    /// The canvas position.
    var position: Int
    /// The sampled (or argmax) token `x0`.
    var token: TokenID
    /// `p(x0)` under the untempered, unfiltered softmax (the threshold compares against this).
    var probability: Float
    /// The algorithm's confidence (larger = surer).
    var confidence: Float
}

/// Turns a logit row into a candidate: bias, exclusions, temperature, top-k, top-p, softmax, draw.
///
/// The order of operations follows Dream's `sample_tokens`; `low_confidence` uses the untempered,
/// unfiltered softmax for its confidence as LLaDA does.
struct TokenDistribution {
    let samplableCount: Int
    let maskTokenID: TokenID
    let nullTokenID: TokenID
    let algorithm: RemaskingAlgorithm
    let temperature: Float
    let topK: Int
    let topP: Float

    init(model: any DenoisingModel, parameters: SamplingParameters) {
        samplableCount = max(0, min(model.logitWidth, model.samplableVocabularySize))
        maskTokenID = model.maskTokenID
        nullTokenID = model.nullTokenID
        algorithm = parameters.algorithm
        temperature = parameters.temperature
        topK = parameters.topK ?? 0
        topP = parameters.topP ?? 1
    }

    /// Draws a candidate for `position` from `row`, or `nil` when every token is excluded.
    ///
    /// - Throws: ``SamplingError/modelOutput(_:)`` when the row holds NaN or +∞.
    ///
    /// - Parameters:
    ///   - allowsNull: whether the null token may be chosen here.
    ///   - excluded: tokens ruled out (banned here), set to −∞.
    ///   - accept: whether a drawn token may be taken; a refused one is removed and the draw
    ///     repeated from the same distribution (falling back to the unfiltered one when top-p/top-k
    ///     kept nothing acceptable), so rules checked against the canvas cost one softmax.
    func candidate(
        row: ArraySlice<Float>, position: Int, bias: [TokenID: Float], allowsNull: Bool,
        excluded: Set<TokenID> = [], rng: inout SeededGenerator, accept: (TokenID) -> Bool = { _ in true }
    ) throws -> Candidate? {
        let n = samplableCount
        var logits = [Float](row.prefix(n))
        for (id, b) in bias where id >= 0 && Int(id) < n { logits[Int(id)] += b }
        if maskTokenID >= 0 && Int(maskTokenID) < n { logits[Int(maskTokenID)] = -.infinity }
        if !allowsNull && nullTokenID >= 0 && Int(nullTokenID) < n { logits[Int(nullTokenID)] = -.infinity }
        for id in excluded where id >= 0 && Int(id) < n { logits[Int(id)] = -.infinity }

        // The threshold (Fast-dLLM) and LLaDA's low_confidence read p(x0) from the untempered,
        // unfiltered softmax: a tempered 0.40/0.25 split must not pass a 0.9 threshold.
        guard let raw = SamplingMath.maxAndExpSum(logits) else { return nil }
        if temperature > 0 {
            let inv = 1 / temperature
            logits.withUnsafeMutableBufferPointer { buf in for i in buf.indices { buf[i] *= inv } }
        }
        if logits.contains(where: \.isNaN) {
            throw SamplingError.modelOutput("NaN logits at canvas position \(position)")
        }
        var p = logits
        guard let (top, sum) = SamplingMath.softmax(&p) else { return nil }
        guard top.isFinite && sum.isFinite else {
            throw SamplingError.modelOutput("non-finite logits (NaN or +∞) at canvas position \(position)")
        }
        // log of p's normaliser, relative to `top`, kept up to date through the filters (for the entropy).
        var logNormaliser = Foundation.log(sum)
        // Dream filters top-p first, then top-k; both keep a prefix of the sorted tokens, so the
        // result is the shorter prefix, renormalised.
        if topP < 1 { logNormaliser += Foundation.log(Self.keepTopP(&p, mass: topP)) }
        if topK > 0 && topK < n {
            Self.keepTopK(&p, k: topK, removed: 0)
            logNormaliser += Foundation.log(Self.normalise(&p))
        }

        var token = 0
        while true {
            token = temperature > 0 ? Self.draw(p, rng: &rng) : Self.argmax(p)
            if p[token] <= 0 {
                // Nothing acceptable left with any mass (filtered out or underflowed): renormalise
                // over every token not refused yet, unfiltered.
                p = logits
                guard SamplingMath.softmax(&p) != nil else { return nil }
                continue
            }
            if accept(TokenID(token)) { break }
            logits[token] = -.infinity
            p[token] = 0
        }
        let pToken = p[token]
        let rawLogit = row[row.startIndex + token] + (bias[TokenID(token)] ?? 0)
        let rawToken = SamplingMath.exp(rawLogit - raw.max) / raw.sum
        let probability = rawToken
        let confidence: Float
        switch algorithm {
        case .origin, .maskgitPlus:
            confidence = pToken
        case .lowConfidence:
            confidence = rawToken
        case .topkMargin:
            var first: Float = 0, second: Float = 0
            for v in p {
                if v > first { second = first; first = v } else if v > second { second = v }
            }
            confidence = first - second
        case .entropy:
            // Σ p log p with log p = (z − top) − log normaliser: one multiply-add pass, no log per token.
            var weighted: Float = 0
            p.withUnsafeBufferPointer { pb in
                logits.withUnsafeBufferPointer { zb in
                    for i in pb.indices where pb[i] > 0 { weighted += pb[i] * (zb[i] - top) }
                }
            }
            confidence = weighted - logNormaliser
        case .random:
            confidence = Float(rng.nextUnit())
        }
        return Candidate(position: position, token: TokenID(token), probability: probability, confidence: confidence)
    }

    /// Softmax over a row that may hold −∞; returns false when every entry is −∞.
    static func softmaxInPlace(_ v: inout [Float]) -> Bool {
        SamplingMath.softmax(&v) != nil
    }

    /// Sets every value below the k-th largest to `removed` (ties with it are kept, as in torch).
    static func keepTopK(_ logits: inout [Float], k: Int, removed: Float = -.infinity) {
        // A small sorted buffer of the k largest seen so far; most values fail the first compare.
        var best: [Float] = []
        best.reserveCapacity(k + 1)
        for v in logits where v > removed {
            if best.count < k {
                let i = best.firstIndex { $0 < v } ?? best.count
                best.insert(v, at: i)
            } else if let last = best.last, v > last {
                let i = best.firstIndex { $0 < v } ?? best.count
                best.insert(v, at: i)
                best.removeLast()
            }
        }
        guard best.count == k, let kth = best.last else { return }
        for i in logits.indices where logits[i] < kth { logits[i] = removed }
    }

    /// Rescales non-negative values to sum to 1 and returns their sum before (1 when it is 0).
    @discardableResult
    static func normalise(_ p: inout [Float]) -> Float {
        var sum: Float = 0
        for v in p { sum += v }
        guard sum > 0 else { return 1 }
        let inv = 1 / sum
        for i in p.indices { p[i] *= inv }
        return sum
    }

    /// Dream's nucleus filter on probabilities: keep the most likely tokens while the mass before
    /// each is ≤ `mass`, then renormalise; returns the mass kept.
    @discardableResult
    static func keepTopP(_ p: inout [Float], mass: Float) -> Float {
        var maxP: Float = 0
        for v in p where v > maxP { maxP = v }
        // Collect the tokens above a falling threshold until they hold enough mass, then sort only them.
        var tau = maxP / 2
        var picked: [Int] = []
        while true {
            picked.removeAll(keepingCapacity: true)
            var held: Float = 0
            for i in p.indices where p[i] >= tau && p[i] > 0 { picked.append(i); held += p[i] }
            if held > mass || tau < 1e-12 { break }
            tau /= 4
        }
        picked.sort { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
        var keep = [Bool](repeating: false, count: p.count)
        var before: Float = 0
        for i in picked {
            if before > mass { break }
            keep[i] = true
            before += p[i]
        }
        var sum: Float = 0
        for i in p.indices { if keep[i] { sum += p[i] } else { p[i] = 0 } }
        guard sum > 0 else { return 1 }
        let inv = 1 / sum
        for i in p.indices where keep[i] { p[i] *= inv }
        return sum
    }

    static func argmax(_ p: [Float]) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for i in p.indices where p[i] > bestValue { bestValue = p[i]; best = i }
        return best
    }

    /// A categorical draw from probabilities (zeros are never drawn).
    static func draw(_ p: [Float], rng: inout SeededGenerator) -> Int {
        var total: Double = 0
        for v in p { total += Double(v) }
        let u = rng.nextUnit() * total
        var acc: Double = 0
        var last = 0
        for i in p.indices where p[i] > 0 {
            acc += Double(p[i])
            last = i
            if u < acc { return i }
        }
        return last
    }
}
