import ArgumentParser
import Foundation
import InfillModel
import InfillSampling

extension RemaskingAlgorithm: ExpressibleByArgument {}

/// `infill generate`: fill N masked tokens between a prompt and a suffix by masked diffusion.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Fill N masked tokens between a prompt and a suffix by masked-diffusion sampling.",
        discussion: "Algorithms: \(RemaskingAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")).")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Text before the gap (special tokens such as <|im_start|> are recognised).")
    var prompt: String

    @Option(help: "Text after the gap.")
    var suffix: String = ""

    @Option(name: .customLong("mask-tokens"), help: "Number of tokens to generate.")
    var maskTokens: Int

    @Option(help: "Denoising steps (default: one per mask token; an upper bound with --threshold).")
    var steps: Int?

    @Option(help: "Remasking algorithm.")
    var algorithm: RemaskingAlgorithm = .entropy

    @Option(name: .customLong("alg-temp"), help: "Choose positions at random by softmax(confidence / X) (Dream's alg_temp).")
    var algorithmTemperature: Float = 0

    @Option(help: "Also commit every position whose probability is at least X (Fast-dLLM).")
    var threshold: Float?

    @Option(name: .customLong("block-length"), help: "Semi-autoregressive block length in tokens.")
    var blockLength: Int?

    @Option(help: "Sampling temperature (0 = argmax).")
    var temperature: Float = SamplingParameters().temperature

    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass.")
    var topP: Float?

    @Option(name: .customLong("top-k"), help: "Sample from the K most likely tokens only.")
    var topK: Int?

    @Option(help: "End of the time grid.")
    var eps: Float = SamplingParameters().eps

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(name: .customLong("keyword"), help: "Text that must appear in the generated tokens (repeatable).")
    var keywords: [String] = []

    @Flag(name: .customLong("variable-length"), help: "Let the model end the text early with end-of-text tokens (removed).")
    var variableLength = false

    @Option(help: "KV cache between steps with --block-length: none, prefix or dual (Fast-dLLM).")
    var cache: CacheMode = .none

    @Option(name: .customLong("refresh-interval"), help: "With --cache: also refresh the cache every N steps inside a block.")
    var refreshInterval: Int?

    @Flag(help: "Print {\"text\", \"tokens\", \"canvas_tokens\", \"steps\", \"forward_passes\", \"seconds\"} as JSON.")
    var json = false

    func run() async throws {
        guard maskTokens >= 1 else { throw CLIError.usage("--mask-tokens must be at least 1 (got \(maskTokens))") }
        let parameters = SamplingParameters(
            steps: steps ?? maskTokens, algorithm: algorithm, algorithmTemperature: algorithmTemperature,
            blockLength: blockLength, threshold: threshold, temperature: temperature, topP: topP, topK: topK,
            eps: eps, seed: seed, cache: cache, refreshInterval: refreshInterval)
        do {
            try parameters.validate()
        } catch let error as SamplingError {
            throw CLIError.usage(error.description)
        }
        let loaded = try modelOptions.load()
        let tokenizer = loaded.tokenizer
        let keywordTokens = keywords.map { tokenizer.encode($0, parseSpecial: false) }
        if let empty = keywords.first(where: { $0.isEmpty }) {
            throw CLIError.usage("--keyword '\(empty)' is empty")
        }
        let start = loaded.model.startTokenID.map { [$0] } ?? []
        let canvas = Canvas.infill(
            prefix: start + tokenizer.encode(prompt, parseSpecial: true), gapLength: maskTokens,
            suffix: tokenizer.encode(suffix, parseSpecial: true), maskTokenID: loaded.model.maskTokenID,
            constraints: GapConstraints(keywords: keywordTokens, allowsNullTail: variableLength))
        let result: SamplingResult
        do {
            guard let first = try DiffusionSampler(model: loaded.model).sample([canvas], parameters: parameters).first else {
                throw CLIError.failed("the sampler returned no result")
            }
            result = first
        } catch let error as SamplingError {
            switch error {
            case .keywordDoesNotFit(_, _, let k) where k < keywords.count:
                throw CLIError.usage(
                    "--keyword '\(keywords[k])' (\(keywordTokens[k].count) tokens) does not fit in --mask-tokens \(maskTokens) "
                        + "together with the other keywords; raise --mask-tokens")
            case .invalidParameter, .invalidCanvas, .keywordDoesNotFit:
                throw CLIError.usage(error.description)
            case .noAllowedToken, .modelOutput:
                throw CLIError.failed(error.description)
            }
        }
        let text = tokenizer.decode(result.gapTokens[0], skipSpecial: true)
        if json {
            let output = GenerateOutput(
                text: text, tokens: result.gapTokens[0], canvasTokens: canvas.tokens.count, steps: result.steps,
                forwardPasses: result.forwardPasses, seconds: result.seconds)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } else {
            print(text)
            var stderr = StandardError()
            let tokensPerSecond = result.seconds > 0 ? Double(result.gapTokens[0].count) / result.seconds : 0
            let rate = String(format: "%.2f s (%.1f tokens/s)", result.seconds, tokensPerSecond)
            print(
                "infill: \(result.gapTokens[0].count) tokens, \(result.steps) steps, \(result.forwardPasses) forward passes, "
                    + "\(rate), \(algorithm.rawValue), model \(loaded.name)", to: &stderr)
        }
    }
}

/// The `--json` output of `infill generate`.
struct GenerateOutput: Encodable {
    var text: String
    var tokens: [TokenID]
    /// The whole canvas: start token, prompt, gap and suffix.
    var canvasTokens: Int
    var steps: Int
    var forwardPasses: Int
    var seconds: Double

    enum CodingKeys: String, CodingKey {
        case text, tokens, canvasTokens = "canvas_tokens", steps, forwardPasses = "forward_passes", seconds
    }
}

extension CacheMode: ExpressibleByArgument {}
