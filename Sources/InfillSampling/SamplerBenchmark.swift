import InfillModel

/// Measures how many forward passes each remasking algorithm needs per generated token (and how
/// fast it runs) on a given model and canvas: the sampler's part of `infill bench`.
public struct SamplerBenchmark: Sendable {
    /// One measured configuration.
    public struct Entry: Sendable, Hashable, Codable {
        public var algorithm: RemaskingAlgorithm
        public var threshold: Float?
        /// Masked positions filled (null tails included).
        public var generatedTokens: Int
        public var steps: Int
        public var forwardPasses: Int
        /// `forwardPasses / generatedTokens`: 1 for one step per token, lower with a threshold.
        public var forwardPassesPerToken: Double
        public var seconds: Double
        public var tokensPerSecond: Double

        /// A short key for reports, such as `entropy` or `entropy_t0.9`.
        public var name: String {
            threshold.map { "\(algorithm.rawValue)_t\($0)" } ?? algorithm.rawValue
        }

        enum CodingKeys: String, CodingKey {
            case algorithm, threshold, generatedTokens = "generated_tokens", steps, forwardPasses = "forward_passes"
            case forwardPassesPerToken = "forward_passes_per_token", seconds, tokensPerSecond = "tokens_per_second"
        }
    }

    public let model: any DenoisingModel

    public init(model: any DenoisingModel) {
        self.model = model
    }

    /// Samples `canvas` once per algorithm and threshold with `parameters` otherwise unchanged.
    public func run(
        canvas: Canvas, parameters: SamplingParameters = SamplingParameters(),
        algorithms: [RemaskingAlgorithm] = RemaskingAlgorithm.allCases, thresholds: [Float?] = [nil, 0.9]
    ) throws -> [Entry] {
        let masked = canvas.tokens.enumerated().filter { $0.element == model.maskTokenID && canvas.pins[$0.offset] == nil }.count
        let sampler = DiffusionSampler(model: model)
        var entries: [Entry] = []
        for algorithm in algorithms {
            for threshold in thresholds {
                var p = parameters
                p.algorithm = algorithm
                p.threshold = threshold
                let r = try sampler.sample([canvas], parameters: p)[0]
                entries.append(Entry(
                    algorithm: algorithm, threshold: threshold, generatedTokens: masked, steps: r.steps,
                    forwardPasses: r.forwardPasses,
                    forwardPassesPerToken: masked > 0 ? Double(r.forwardPasses) / Double(masked) : 0,
                    seconds: r.seconds, tokensPerSecond: r.seconds > 0 ? Double(masked) / r.seconds : 0))
            }
        }
        return entries
    }

    /// The entries as flat named numbers (`NAME_forward_passes_per_token`, `NAME_tokens_per_second`),
    /// the shape `infill bench` sections report.
    public static func figures(_ entries: [Entry]) -> [String: Double] {
        var out: [String: Double] = [:]
        for e in entries {
            out["\(e.name)_forward_passes_per_token"] = e.forwardPassesPerToken
            out["\(e.name)_tokens_per_second"] = e.tokensPerSecond
        }
        return out
    }

    /// A standard infill canvas for benchmarks: a short prompt, `gapLength` masks, a short suffix.
    public static func standardCanvas(tokenizer: any Tokenizer, maskTokenID: TokenID, gapLength: Int = 32) -> Canvas {
        Canvas.infill(
            prefix: tokenizer.encode("Our new laptop is light and fast. In short,"), gapLength: gapLength,
            suffix: tokenizer.encode(" We think you will love it."), maskTokenID: maskTokenID)
    }
}
