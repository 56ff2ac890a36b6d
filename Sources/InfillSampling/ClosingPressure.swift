import InfillModel

/// A push towards ending a gap's text as it nears its length: a growing bias on sentence ends,
/// then on the gap's end.
///
/// A field that is still mid-sentence when its budget runs out is cut there, and a cut sentence
/// is not prose. From offset ``from`` of the gap on, the bias grows linearly to ``strength`` at
/// offset ``full`` (and stays there): after a token that ends a sentence it goes to the gap's
/// end tokens and the null (end here), elsewhere, at half the weight, to the sentence-ending
/// tokens (finish the sentence; a full push would cut phrases into fragments). Like any bias it only shifts the distribution; the denoiser and the parent still
/// choose how the sentence ends.
public struct ClosingPressure: Sendable, Hashable {
    /// Tokens that end a sentence (`.`, `!`, `?`, `...`).
    public var sentenceEnds: Set<TokenID>
    /// Gap offset where the push starts.
    public var from: Int
    /// Gap offset where it reaches full strength.
    public var full: Int
    /// Logits added at full strength.
    public var strength: Float

    public init(sentenceEnds: Set<TokenID>, from: Int, full: Int, strength: Float = 3) {
        self.sentenceEnds = sentenceEnds
        self.from = from
        self.full = max(full, from)
        self.strength = strength
    }

    /// The push at gap offset `offset` (0 before ``from``).
    public func weight(atOffset offset: Int) -> Float {
        guard offset >= from else { return 0 }
        return strength * min(1, Float(offset - from + 1) / Float(full - from + 1))
    }
}
