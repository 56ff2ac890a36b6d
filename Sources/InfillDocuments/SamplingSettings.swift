import InfillModel
import InfillSampling

/// The sampler settings a pipeline or a field may set; nil means "inherit".
///
/// A pipeline's `sampling:` gives document-wide values; a field's own `sampling:` overrides them
/// for that field (see ``overriding(with:)``). Missing values fall back to
/// ``ResolvedSampling/defaults`` when ``ResolvedSampling/init(_:)`` resolves them.
public struct SamplingSettings: Sendable, Hashable {
    /// Denoising steps per field (fewer = faster and rougher).
    public var steps: Int?
    /// The remasking algorithm name, such as `entropy` (see the sampler's list).
    public var algorithm: String?
    /// Softmax temperature; 0 = greedy.
    public var temperature: Double?
    /// Confidence threshold for unmasking several tokens per step, if the algorithm uses one.
    public var threshold: Double?
    /// Semi-autoregressive block length in tokens (nil = the whole gap at once).
    public var blockLength: Int?
    /// Base seed; the per-document seed is this XOR a hash of the input bytes.
    public var seed: UInt64?
    /// How many candidate fills to sample; the one with the best constraint score is kept.
    public var candidates: Int?
    /// Nucleus sampling mass.
    public var topP: Double?
    /// Keep only the K most likely tokens.
    public var topK: Int?
    /// KV cache between steps: `none`, `prefix` or `dual`.
    public var cache: String?
    /// Refresh the cache every N steps inside a block too (nil = only at block boundaries).
    public var refreshInterval: Int?
    /// Weight of the autoregressive parent's next-token distribution (0 = the denoiser alone).
    public var guidance: Double?
    /// A full cache pass only every N finished blocks (nil = at every block boundary).
    public var refreshBlocks: Int?
    /// Fill every field of a canvas at once, each with its own block cursor.
    public var parallelGaps: Bool?
    /// Where instructions go on the canvas: `chat` (a user turn of the model's chat template)
    /// or `inline` (in parentheses before the gap); nil: the model's own choice.
    public var instructions: String?
    /// Context contrast under parent guidance: how strongly words the document makes likely
    /// are preferred to words any text would have (0 = off).
    public var contextContrast: Double?
    /// Whether a field that does not read as prose after its canvas is filled again on its own,
    /// between the finished fields (``DocumentFiller``; costs one more canvas per such field).
    public var repair: Bool?

    public init(
        steps: Int? = nil, algorithm: String? = nil, temperature: Double? = nil, threshold: Double? = nil,
        blockLength: Int? = nil, seed: UInt64? = nil, candidates: Int? = nil, topP: Double? = nil, topK: Int? = nil,
        cache: String? = nil, refreshInterval: Int? = nil, guidance: Double? = nil, refreshBlocks: Int? = nil,
        parallelGaps: Bool? = nil, instructions: String? = nil, contextContrast: Double? = nil, repair: Bool? = nil
    ) {
        self.repair = repair
        self.contextContrast = contextContrast
        self.instructions = instructions
        self.refreshBlocks = refreshBlocks
        self.parallelGaps = parallelGaps
        self.guidance = guidance
        self.cache = cache
        self.refreshInterval = refreshInterval
        self.steps = steps
        self.algorithm = algorithm
        self.temperature = temperature
        self.threshold = threshold
        self.blockLength = blockLength
        self.seed = seed
        self.candidates = candidates
        self.topP = topP
        self.topK = topK
    }

    /// These settings with every value `other` sets replacing ours.
    public func overriding(with other: SamplingSettings) -> SamplingSettings {
        SamplingSettings(
            steps: other.steps ?? steps, algorithm: other.algorithm ?? algorithm,
            temperature: other.temperature ?? temperature, threshold: other.threshold ?? threshold,
            blockLength: other.blockLength ?? blockLength, seed: other.seed ?? seed,
            candidates: other.candidates ?? candidates, topP: other.topP ?? topP, topK: other.topK ?? topK,
            cache: other.cache ?? cache, refreshInterval: other.refreshInterval ?? refreshInterval,
            guidance: other.guidance ?? guidance, refreshBlocks: other.refreshBlocks ?? refreshBlocks,
            parallelGaps: other.parallelGaps ?? parallelGaps, instructions: other.instructions ?? instructions,
            contextContrast: other.contextContrast ?? contextContrast, repair: other.repair ?? repair)
    }

    /// The keys of a `sampling:` mapping.
    static let keys = ["steps", "algorithm", "temperature", "threshold", "block_length", "seed", "candidates", "top_p", "top_k",
                       "cache", "refresh_interval", "guidance", "refresh_blocks", "parallel_gaps", "instructions",
                       "context_contrast", "repair"]

    /// Remasking algorithms a spec may name (checked here so a typo fails in `infill check`).
    public static let algorithms = RemaskingAlgorithm.allCases.map(\.rawValue)

    /// Parses a `sampling:` mapping given as YAML text, such as `{guidance: 0, block_length: 4}`
    /// (the command line's overrides); errors name `label`.
    public init(yaml text: String, label: String) throws {
        let locate: YAMLParsing.Locator = { SourceLocation(file: label, line: $0, column: $1) }
        guard let node = try YAMLParsing.parse(text, locate: locate) else { self.init(); return }
        self = try Self.decode(node, what: "'sampling'")
    }

    /// Decodes a `sampling:` mapping strictly.
    static func decode(_ node: YAMLNode, what: String) throws -> SamplingSettings {
        if node.isNull { return SamplingSettings() }
        let entries = try node.mapping(allowed: keys, what: what)
        var settings = SamplingSettings()
        settings.steps = try entries["steps"]?.value.int("'steps'", in: 1...4096)
        settings.algorithm = try entries["algorithm"]?.value.choice("'algorithm'", among: algorithms)
        settings.temperature = try entries["temperature"]?.value.double("'temperature'", in: 0...10)
        if let node = entries["threshold"]?.value {
            let threshold = try node.double("'threshold'", in: 0...1)
            guard threshold > 0 else {
                throw DocumentError("'threshold' must be above 0 and at most 1, found 0", at: node.location,
                                    hint: "0 would commit every position in one step; leave it out for one token per step")
            }
            settings.threshold = threshold
        }
        settings.blockLength = try entries["block_length"]?.value.int("'block_length'", in: 1...4096)
        settings.seed = try entries["seed"]?.value.uint64("'seed'")
        settings.candidates = try entries["candidates"]?.value.int("'candidates'", in: 1...64)
        settings.topP = try entries["top_p"]?.value.double("'top_p'", in: 0.000001...1)
        settings.topK = try entries["top_k"]?.value.int("'top_k'", in: 1...1_000_000)
        settings.cache = try entries["cache"]?.value.choice("'cache'", among: CacheMode.allCases.map(\.rawValue))
        settings.refreshInterval = try entries["refresh_interval"]?.value.int("'refresh_interval'", in: 1...4096)
        settings.guidance = try entries["guidance"]?.value.double("'guidance'", in: 0...8)
        settings.refreshBlocks = try entries["refresh_blocks"]?.value.int("'refresh_blocks'", in: 1...4096)
        settings.parallelGaps = try entries["parallel_gaps"]?.value.bool("'parallel_gaps'")
        settings.instructions = try entries["instructions"]?.value.choice("'instructions'", among: InstructionLayout.allCases.map(\.rawValue))
        settings.contextContrast = try entries["context_contrast"]?.value.double("'context_contrast'", in: 0...4)
        settings.repair = try entries["repair"]?.value.bool("'repair'")
        return settings
    }
}

/// Fully resolved sampler settings for one field: every value chosen, names resolved to the
/// sampler's types.
public struct ResolvedSampling: Sendable, Hashable {
    /// Steps per field; nil derives them from the mask budget (one token per step, more where
    /// the threshold lets them through).
    public var steps: Int?
    public var algorithm: RemaskingAlgorithm
    public var temperature: Double
    public var threshold: Double?
    public var blockLength: Int?
    public var seed: UInt64
    public var candidates: Int
    public var topP: Double?
    public var topK: Int?
    public var cache: CacheMode
    public var refreshInterval: Int?
    /// Parent guidance weight; used only with a model that has an autoregressive parent.
    public var guidance: Double
    public var refreshBlocks: Int?
    public var parallelGaps: Bool
    /// Where instructions go on the canvas; nil: the model's own
    /// (``InfillModel/LoadedModel/instructionLayout``), and `chat` falls back to `inline` for a
    /// model without a chat template.
    public var instructions: InstructionLayout?
    /// Context contrast weight under guidance (``InfillSampling/SamplingParameters/contrast``).
    public var contextContrast: Double
    /// Whether an unreadable field is filled again on its own after the first pass.
    public var repair: Bool

    /// Values used where neither the pipeline nor the field says otherwise (the one place the
    /// documents layer's sampling defaults are written): the decoding that read best on the
    /// quality benchmark (`infill bench --quality`, README): semi-autoregressive blocks of 8
    /// tokens through the canvas, one token per step (steps derived from the mask budget) plus
    /// every token the model is at least 90 % sure of (untempered), entropy order inside a block,
    /// nucleus sampling at a low temperature; the dual KV cache recomputing what changed each
    /// step and a full pass only every 16 blocks (read as well as a full pass at every block,
    /// at a fraction of the cost); fields one after another, guided by the parent, with context
    /// contrast at 0.5 (words this document makes likely over words any text would have: more
    /// fields on their subject, none less readable, on both template sets); instructions
    /// where the model wants them (``InfillModel/LoadedModel/instructionLayout``: in a chat turn
    /// for a model with a chat template, the default model included, in parentheses without one);
    /// a field that still does not read as prose filled again on its own between the finished
    /// fields (readable fields on new templates 85 % → 95 %, README).
    public static let defaults = ResolvedSampling(
        steps: nil, algorithm: .entropy, temperature: 0.5, threshold: 0.9, blockLength: 8, seed: 0, candidates: 1,
        topP: 0.9, topK: nil, cache: .dual, refreshInterval: nil, guidance: 1, refreshBlocks: 16, parallelGaps: false,
        instructions: nil, contextContrast: 0.5, repair: true)
}

extension ResolvedSampling {
    /// Fills the gaps of `settings` from ``defaults``. Names were checked when the settings were
    /// decoded; a name no sampler type knows (only possible in code) also takes the default.
    public init(_ settings: SamplingSettings) {
        let d = Self.defaults
        self.init(
            steps: settings.steps ?? d.steps,
            algorithm: settings.algorithm.flatMap(RemaskingAlgorithm.init(rawValue:)) ?? d.algorithm,
            temperature: settings.temperature ?? d.temperature, threshold: settings.threshold ?? d.threshold,
            blockLength: settings.blockLength ?? d.blockLength, seed: settings.seed ?? d.seed,
            candidates: settings.candidates ?? d.candidates, topP: settings.topP ?? d.topP,
            topK: settings.topK ?? d.topK, cache: settings.cache.flatMap(CacheMode.init(rawValue:)) ?? d.cache,
            refreshInterval: settings.refreshInterval ?? d.refreshInterval, guidance: settings.guidance ?? d.guidance,
            refreshBlocks: settings.refreshBlocks ?? d.refreshBlocks, parallelGaps: settings.parallelGaps ?? d.parallelGaps,
            instructions: settings.instructions.flatMap(InstructionLayout.init(rawValue:)) ?? d.instructions,
            contextContrast: settings.contextContrast ?? d.contextContrast, repair: settings.repair ?? d.repair)
    }
}
