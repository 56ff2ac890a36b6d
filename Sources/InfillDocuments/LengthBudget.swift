import InfillModel

/// How many mask tokens a field's gap gets, and the fewest it must keep.
///
/// A gap is over-allocated and variable-length: the model ends the text with a null tail where
/// it likes. For `words:` the budget uses the tokenizer's own tokens-per-word ratio, measured on
/// a reference paragraph (≈1.3 for English BPE, ≈5.5 for a byte tokenizer), with 25 % headroom
/// and never below 1.6 tokens per word; text past the maximum is trimmed at a word boundary
/// afterwards. For `tokens:` the bounds are exact.
public struct LengthBudget: Sendable, Hashable {
    /// Mask tokens in the gap.
    public var maskTokens: Int
    /// Fewest non-null tokens (the sampler's `minTokens`).
    public var minTokens: Int

    /// Words when a field gives neither `words` nor `tokens`.
    public static let defaultWords = LengthBound(min: 1, max: 40)

    /// The tokenizer's tokens per word on English prose.
    public static func tokensPerWord(_ tokenizer: any Tokenizer) -> Double {
        let ids = tokenizer.encode(referenceParagraph)
        return max(1, Double(ids.count) / Double(WordCount.count(in: referenceParagraph)))
    }

    /// The budget of a field with the given bounds.
    public static func make(words: LengthBound?, tokens: LengthBound?, tokensPerWord: Double, keywordTokens: Int) -> LengthBudget {
        var maxTokens = Int.max, minTokens = 1
        if let tokens {
            maxTokens = tokens.max
            minTokens = tokens.min
        }
        let w = words ?? (tokens == nil ? defaultWords : nil)
        if let w {
            let ratio = max(1.6, tokensPerWord * 1.25)
            maxTokens = min(maxTokens, Int((Double(w.max) * ratio).rounded(.up)))
            minTokens = max(minTokens, Int((Double(w.min) * tokensPerWord * 1.15).rounded(.up)))
        }
        maxTokens = max(maxTokens, keywordTokens, 1)
        return LengthBudget(maskTokens: maxTokens, minTokens: min(max(minTokens, 0), maxTokens))
    }

    /// A plain English paragraph for measuring tokens per word.
    static let referenceParagraph = """
        The new model runs for two full days on a single charge, weighs less than a paperback book, \
        and folds flat enough to slip into a coat pocket. Early customers told us that setting it up \
        took only a few minutes, although some asked for clearer instructions about pairing it with \
        older phones. We expect the first shipments to arrive in March, and we will publish a detailed \
        report on reliability after the spring review.
        """
}
