/// The knobs of one sampling run, named as in Dream / LLaDA / Fast-dLLM.
///
/// The `Codable` form uses the reference names: `steps`, `algorithm`, `alg_temp`, `block_length`,
/// `threshold`, `temperature`, `top_p`, `top_k`, `eps`, `seed`, `cache`, `refresh_interval`,
/// `refresh_blocks`, `guidance`, `parallel_gaps`, `context_contrast`; missing keys keep their defaults, unknown keys (such as a reference config's
/// `candidates`) are skipped, and an unknown algorithm or cache name is a `DecodingError`.
/// A pipeline's `sampling:` map does not come through here: InfillDocuments' `SamplingSettings`
/// decodes it strictly and rejects unknown keys with a "did you mean".
public struct SamplingParameters: Sendable, Hashable, Codable {
    /// Denoising steps per canvas (split evenly over blocks); `nil` = one step per masked token,
    /// the best-quality setting. With ``threshold`` it is an upper bound.
    public var steps: Int?
    /// Which masked positions a step commits.
    public var algorithm: RemaskingAlgorithm
    /// Dream's `alg_temp`: when > 0 the `k` positions are drawn at random with probabilities
    /// `softmax(confidence / algorithmTemperature)` instead of taking the top `k`.
    public var algorithmTemperature: Float
    /// LLaDA's semi-autoregressive block length in masked tokens; `nil` = one block.
    public var blockLength: Int?
    /// Fast-dLLM parallel decoding: also commit every masked position whose `p(x0)` ≥ threshold
    /// (in (0, 1]); `nil` = off.
    public var threshold: Float?
    /// Sampling temperature; 0 = argmax.
    public var temperature: Float
    /// Nucleus sampling mass in (0, 1]; `nil` or 1 = off.
    public var topP: Float?
    /// Keep only the `topK` most likely tokens; `nil` or 0 = off.
    public var topK: Int?
    /// The time grid's end: `t = linspace(1, eps, steps + 1)`, in (0, 1).
    public var eps: Float
    /// The seed of every canvas that has no ``Canvas/seed`` of its own.
    public var seed: UInt64
    /// Keys and values reused between steps (needs ``blockLength``).
    public var cache: CacheMode
    /// With a cache: also refresh it every this many steps inside a block (`nil` = only at block
    /// boundaries; 1 = every step, which reproduces the uncached logits).
    public var refreshInterval: Int?
    /// With a cache: a full pass at a block boundary only once this many blocks have finished
    /// since the last one (`nil` = at every boundary, Fast-dLLM's rule). Between full passes a
    /// boundary recomputes the finished block's rows with the new block's, so the cache holds
    /// every committed token and only the context's own rows go stale.
    public var refreshBlocks: Int?
    /// Every gap is its own semi-autoregressive lane, and all lanes advance in each forward pass
    /// (``blockLength`` per gap); `false` walks one lane through the whole canvas, gap after gap.
    public var parallelGaps: Bool
    /// Parent guidance: the weight of the autoregressive parent's next-token log-probabilities
    /// added to the denoiser's at the leftmost masked position of each block (0 = off; needs a
    /// ``DiffusionSampler/parent``).
    public var guidance: Float
    /// Context contrast under guidance: the exponent α of `(p_parent / p_plain)^α`, where
    /// `p_plain` is the parent after the field's own text without the document around it
    /// (``ParentGuidance``); 0 = off. Favours words the document makes likely over words any
    /// text would have.
    public var contrast: Float

    public init(
        steps: Int? = nil, algorithm: RemaskingAlgorithm = .entropy, algorithmTemperature: Float = 0,
        blockLength: Int? = nil, threshold: Float? = nil, temperature: Float = 0.2, topP: Float? = nil,
        topK: Int? = nil, eps: Float = 1e-3, seed: UInt64 = 0, cache: CacheMode = .none, refreshInterval: Int? = nil,
        guidance: Float = 0, refreshBlocks: Int? = nil, parallelGaps: Bool = false, contrast: Float = 0
    ) {
        self.contrast = contrast
        self.refreshBlocks = refreshBlocks
        self.parallelGaps = parallelGaps
        self.guidance = guidance
        self.cache = cache
        self.refreshInterval = refreshInterval
        self.steps = steps
        self.algorithm = algorithm
        self.algorithmTemperature = algorithmTemperature
        self.blockLength = blockLength
        self.threshold = threshold
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.eps = eps
        self.seed = seed
    }

    enum CodingKeys: String, CodingKey {
        case steps, algorithm, algorithmTemperature = "alg_temp", blockLength = "block_length", threshold
        case temperature, topP = "top_p", topK = "top_k", eps, seed, cache, refreshInterval = "refresh_interval", guidance
        case refreshBlocks = "refresh_blocks", parallelGaps = "parallel_gaps", contrast = "context_contrast"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SamplingParameters()
        steps = try c.decodeIfPresent(Int.self, forKey: .steps)
        algorithm = try c.decodeIfPresent(RemaskingAlgorithm.self, forKey: .algorithm) ?? d.algorithm
        algorithmTemperature = try c.decodeIfPresent(Float.self, forKey: .algorithmTemperature) ?? d.algorithmTemperature
        blockLength = try c.decodeIfPresent(Int.self, forKey: .blockLength)
        threshold = try c.decodeIfPresent(Float.self, forKey: .threshold)
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? d.temperature
        topP = try c.decodeIfPresent(Float.self, forKey: .topP)
        topK = try c.decodeIfPresent(Int.self, forKey: .topK)
        eps = try c.decodeIfPresent(Float.self, forKey: .eps) ?? d.eps
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        cache = try c.decodeIfPresent(CacheMode.self, forKey: .cache) ?? d.cache
        refreshInterval = try c.decodeIfPresent(Int.self, forKey: .refreshInterval)
        guidance = try c.decodeIfPresent(Float.self, forKey: .guidance) ?? d.guidance
        refreshBlocks = try c.decodeIfPresent(Int.self, forKey: .refreshBlocks)
        parallelGaps = try c.decodeIfPresent(Bool.self, forKey: .parallelGaps) ?? d.parallelGaps
        contrast = try c.decodeIfPresent(Float.self, forKey: .contrast) ?? d.contrast
    }

    /// Throws ``SamplingError/invalidParameter(_:)`` naming the first value out of range.
    public func validate() throws {
        func fail(_ message: String) -> SamplingError { .invalidParameter(message) }
        if let steps, steps < 1 { throw fail("steps must be at least 1 (got \(steps))") }
        if let blockLength, blockLength < 1 { throw fail("block_length must be at least 1 (got \(blockLength))") }
        if !(algorithmTemperature >= 0) { throw fail("alg_temp must be ≥ 0 (got \(algorithmTemperature))") }
        if let threshold, !(threshold > 0 && threshold <= 1) {
            throw fail("threshold must be in (0, 1] (got \(threshold))")
        }
        if !(temperature >= 0) || !temperature.isFinite { throw fail("temperature must be ≥ 0 (got \(temperature))") }
        if let topP, !(topP > 0 && topP <= 1) { throw fail("top_p must be in (0, 1] (got \(topP))") }
        if let topK, topK < 0 { throw fail("top_k must be ≥ 0 (got \(topK))") }
        if !(eps > 0 && eps < 1) { throw fail("eps must be in (0, 1) (got \(eps))") }
        if !(guidance >= 0 && guidance <= 8) { throw fail("guidance must be in [0, 8] (got \(guidance))") }
        if !(contrast >= 0 && contrast <= 4) { throw fail("context_contrast must be in [0, 4] (got \(contrast))") }
        if let refreshInterval, refreshInterval < 1 { throw fail("refresh_interval must be at least 1 (got \(refreshInterval))") }
        if let refreshBlocks, refreshBlocks < 1 { throw fail("refresh_blocks must be at least 1 (got \(refreshBlocks))") }
    }
}
