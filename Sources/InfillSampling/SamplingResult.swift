import InfillModel

/// The outcome of sampling one ``Canvas``.
public struct SamplingResult: Sendable, Hashable {
    /// The final canvas with the null tails of variable-length gaps removed.
    public var tokens: [TokenID]
    /// The final canvas position by position (null tails still in place, same length as the input).
    public var canvasTokens: [TokenID]
    /// The generated tokens of each gap, in ``Canvas/gaps`` order, null tail removed.
    public var gapTokens: [[TokenID]]
    /// Where each keyword was placed: per gap, per keyword, its offset inside the gap.
    public var keywordOffsets: [[Int]]
    /// Per gap, per keyword: the natural log of the ratio of its first token's probability to the
    /// most likely token's where guided decoding wrote it (0 when it was the likeliest, or when it
    /// was pinned before denoising). A keyword forced in at its deadline scores far below zero:
    /// the sentence did not want it there ("Sincerely key.").
    public var keywordFit: [[Float]] = []
    /// Denoising steps run (a step may commit several tokens).
    public var steps: Int
    /// Forward passes this canvas took part in (keyword placement included): the NFE.
    public var forwardPasses: Int
    /// Wall-clock seconds from the start of the call until this canvas was finished.
    public var seconds: Double
    /// The canvas after keyword placement and after every step, when history was requested.
    public var history: [[TokenID]]?
    /// Where the forward passes' time went.
    public var timings = SamplingTimings()

    public init(
        tokens: [TokenID], canvasTokens: [TokenID], gapTokens: [[TokenID]], keywordOffsets: [[Int]],
        steps: Int, forwardPasses: Int, seconds: Double, history: [[TokenID]]?
    ) {
        self.tokens = tokens
        self.canvasTokens = canvasTokens
        self.gapTokens = gapTokens
        self.keywordOffsets = keywordOffsets
        self.steps = steps
        self.forwardPasses = forwardPasses
        self.seconds = seconds
        self.history = history
    }
}

/// Where a canvas's forward-pass time went: full passes, cached passes over a few rows, and
/// the parent's steps, each as a count and wall-clock seconds (a pass shared by several canvases
/// counts for each of them).
public struct SamplingTimings: Sendable, Hashable {
    public var fullPasses = 0
    public var fullPassSeconds: Double = 0
    /// Passes that recomputed only some rows against the KV cache.
    public var cachedPasses = 0
    public var cachedPassSeconds: Double = 0
    /// Rows the cached passes recomputed, summed.
    public var cachedRows = 0
    /// Parent-guidance passes.
    public var parentPasses = 0
    public var parentSeconds: Double = 0

    public init() {}

    /// The sum of two canvases' or attempts' timings.
    public static func + (a: SamplingTimings, b: SamplingTimings) -> SamplingTimings {
        var s = a
        s.fullPasses += b.fullPasses
        s.fullPassSeconds += b.fullPassSeconds
        s.cachedPasses += b.cachedPasses
        s.cachedPassSeconds += b.cachedPassSeconds
        s.cachedRows += b.cachedRows
        s.parentPasses += b.parentPasses
        s.parentSeconds += b.parentSeconds
        return s
    }
}

/// Reported after every step of a ``DiffusionSampler/sample(_:parameters:recordHistory:progress:)`` call.
public struct SamplingProgress: Sendable, Hashable {
    /// The step just finished, from 1.
    public var step: Int
    /// The most steps the call can take (the largest canvas's step budget).
    public var totalSteps: Int
    /// Masked positions left over all canvases of the call.
    public var masksLeft: Int
    /// Forward passes run by the call so far (one per batched `predict`).
    public var forwardPasses: Int

    public init(step: Int, totalSteps: Int, masksLeft: Int, forwardPasses: Int) {
        self.step = step
        self.totalSteps = totalSteps
        self.masksLeft = masksLeft
        self.forwardPasses = forwardPasses
    }
}
