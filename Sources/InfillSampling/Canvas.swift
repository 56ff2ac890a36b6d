import InfillModel

/// A sequence to denoise: context tokens, mask tokens at the ``Gap``s, and pinned positions.
///
/// Every position holding the model's mask token is generated; positions in a ``Gap`` follow that
/// gap's ``GapConstraints``, masks outside any gap are plain free positions. ``pins`` fix tokens
/// that must never change (they are written into ``tokens`` before sampling starts).
public struct Canvas: Sendable, Hashable {
    /// The canvas, with the model's mask token at every position still to generate.
    public var tokens: [TokenID]
    /// The gaps, in any order, not overlapping; every position of a gap holds the mask token or a pin.
    public var gaps: [Gap]
    /// Positions fixed to a token: written into the canvas before sampling and never changed.
    public var pins: [Int: TokenID]
    /// This canvas's own seed; `nil` uses ``SamplingParameters/seed``. Each canvas draws from its
    /// own random stream, so a batch gives the same results as the canvases sampled one by one.
    public var seed: UInt64?

    public init(tokens: [TokenID], gaps: [Gap] = [], pins: [Int: TokenID] = [:], seed: UInt64? = nil) {
        self.tokens = tokens
        self.gaps = gaps
        self.pins = pins
        self.seed = seed
    }

    /// Builds a canvas from context runs and gaps laid end to end.
    ///
    /// - Parameters:
    ///   - segments: the pieces in canvas order.
    ///   - maskTokenID: the model's ``DenoisingModel/maskTokenID``, written at every gap position.
    ///   - seed: the canvas's own seed, if any.
    public init(segments: [CanvasSegment], maskTokenID: TokenID, seed: UInt64? = nil) {
        var tokens: [TokenID] = []
        var gaps: [Gap] = []
        for segment in segments {
            switch segment {
            case .context(let ids):
                tokens.append(contentsOf: ids)
            case .gap(let length, let constraints):
                let start = tokens.count
                tokens.append(contentsOf: repeatElement(maskTokenID, count: max(0, length)))
                gaps.append(Gap(range: start..<tokens.count, constraints: constraints))
            }
        }
        self.init(tokens: tokens, gaps: gaps, seed: seed)
    }

    /// A prompt, `length` masks, then a suffix: the shape `infill generate` uses.
    public static func infill(
        prefix: [TokenID], gapLength: Int, suffix: [TokenID] = [], maskTokenID: TokenID,
        constraints: GapConstraints = GapConstraints(), seed: UInt64? = nil
    ) -> Canvas {
        Canvas(
            segments: [.context(prefix), .gap(length: gapLength, constraints), .context(suffix)],
            maskTokenID: maskTokenID, seed: seed)
    }
}

/// A piece of a canvas for ``Canvas/init(segments:maskTokenID:seed:)``.
public enum CanvasSegment: Sendable, Hashable {
    /// Fixed context tokens.
    case context([TokenID])
    /// A gap of `length` mask tokens with its constraints.
    case gap(length: Int, GapConstraints)
}

/// A run of canvas positions to generate, with its constraints.
public struct Gap: Sendable, Hashable {
    /// The canvas positions of the gap.
    public var range: Range<Int>
    /// What the generated tokens must (not) contain.
    public var constraints: GapConstraints

    public init(range: Range<Int>, constraints: GapConstraints = GapConstraints()) {
        self.range = range
        self.constraints = constraints
    }
}

/// Hard and soft constraints on the tokens generated in one ``Gap``.
public struct GapConstraints: Sendable, Hashable {
    /// Token sequences that must appear verbatim in the gap. Before denoising each one is placed
    /// where the model finds it most likely and pinned; if one cannot fit, sampling throws
    /// ``SamplingError/keywordDoesNotFit(canvas:gap:keyword:)``.
    public var keywords: [[TokenID]]
    /// Token sequences never completed by a token generated in this gap (checked against the
    /// neighbours on both sides, across the gap's edges; removed null tokens are skipped).
    public var bannedSequences: [[TokenID]]
    /// Added to the logits of these tokens at every position of the gap before sampling; −∞
    /// excludes a token from the gap altogether (for example special tokens in prose).
    public var logitBias: [TokenID: Float]
    /// Whether the gap is variable-length: its unused tail may be filled with the model's
    /// ``DenoisingModel/nullTokenID``, which is removed from the result. Once a null is committed
    /// at a position, every later position of the gap becomes null too.
    public var allowsNullTail: Bool
    /// The fewest non-null tokens the gap keeps (only matters with ``allowsNullTail``).
    public var minTokens: Int
    /// Tokens that end the gap where they are chosen (for example a blank line in a paragraph
    /// field): choosing one commits the null tail there instead. Where the tail is not allowed
    /// yet they are not chosen at all.
    public var endTokens: Set<TokenID>
    /// Rules against repeated words, repeated n-grams and filler, checked before every commit.
    public var repetition: RepetitionGuard?
    /// Tokens never committed at the gap's first position (for example a bare list number opening
    /// a paragraph field: small models trained on numbered senses start every paragraph with `1.`).
    public var firstTokenBans: Set<TokenID> = []
    /// Tokens never committed right after a keyword's last token: those that would continue its
    /// word (`station` + `ery`, `refund` + `ability`), so a keyword stays the word it was asked as.
    public var afterKeywordBans: Set<TokenID> = []
    /// A push towards finishing the sentence and ending the gap near its length (nil = none).
    public var closing: ClosingPressure?
    /// Indices of keywords that read only inside a sentence (`refund`, `water bath`: they start
    /// with a lowercase letter). Guided decoding does not write them right after one of
    /// ``sentenceBoundaries`` unless they are due, so a keyword does not open a sentence in lowercase.
    public var midSentenceKeywords: Set<Int> = []
    /// Tokens after which a sentence starts: sentence-ending punctuation and line breaks.
    public var sentenceBoundaries: Set<TokenID> = []
    /// Under guidance, the words that may open a sentence right before a lowercase keyword due
    /// there (`The`, `Your`: the keyword becomes the sentence's subject). When set, a due keyword
    /// that would fit badly mid-sentence first lets the sentence end (``StreamKeywords``); empty
    /// (the default) writes it where it is due.
    public var keywordOpeners: Set<TokenID> = []
    /// Openers for particular keywords (by index), in place of ``keywordOpeners``: a verb such
    /// as `simmer` or `thank you` opens its sentence after a subject (`We`, `Then`), not after
    /// an article ("The simmer for 1 minute").
    public var keywordOpenersByKeyword: [Int: Set<TokenID>] = [:]

    /// The words that may open a sentence right before keyword `k`.
    public func openers(forKeyword k: Int) -> Set<TokenID> {
        keywordOpenersByKeyword[k] ?? keywordOpeners
    }

    public init(
        keywords: [[TokenID]] = [], bannedSequences: [[TokenID]] = [], logitBias: [TokenID: Float] = [:],
        allowsNullTail: Bool = false, minTokens: Int = 0, endTokens: Set<TokenID> = [],
        repetition: RepetitionGuard? = nil
    ) {
        self.keywords = keywords
        self.bannedSequences = bannedSequences
        self.logitBias = logitBias
        self.allowsNullTail = allowsNullTail
        self.minTokens = minTokens
        self.endTokens = endTokens
        self.repetition = repetition
    }
}
