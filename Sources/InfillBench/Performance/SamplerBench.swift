import InfillSampling

/// Forward passes per generated token and tokens/s for each remasking algorithm, with and
/// without Fast-dLLM's confidence threshold (0.9), on one 32-token infill gap.
///
/// With `--quick` only `entropy` and `low_confidence` are run.
package struct SamplerBench: BenchSection {
    package static let name = "sampler"

    package static func run(_ context: BenchContext) throws -> [String: Double] {
        // A bare transformer (`--shape`) has no tokenizer to build the canvas with.
        guard let loaded = context.model?.loaded else { return [:] }
        let canvas = SamplerBenchmark.standardCanvas(
            tokenizer: loaded.tokenizer, maskTokenID: loaded.model.maskTokenID, gapLength: 32)
        var parameters = SamplingParameters()
        parameters.seed = 1
        let algorithms: [RemaskingAlgorithm] = context.quick
            ? [.entropy, .lowConfidence] : RemaskingAlgorithm.allCases
        let entries = try SamplerBenchmark(model: loaded.model).run(
            canvas: canvas, parameters: parameters, algorithms: algorithms, thresholds: [nil, 0.9])
        return SamplerBenchmark.figures(entries)
    }
}
