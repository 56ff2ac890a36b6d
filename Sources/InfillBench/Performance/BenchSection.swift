import InfillModel

/// What every benchmark section gets: the loaded model (nil for a synthetic `--shape`), the
/// transformer to time, and the settings of this run.
package struct BenchContext {
    package let model: ModelLoader.Result?
    package let transformer: Transformer
    /// Token ids drawn for random canvases are below this.
    package let vocabulary: Int
    /// Canvas lengths the forward section times.
    package var canvases = [256, 1024]
    package let threads: Int
    /// Fewer repetitions (for tests and quick looks).
    package let quick: Bool
    /// Results of earlier sections, by section name (the forward section reads the sgemm peak).
    package var results: [String: [String: Double]] = [:]
    /// llama.cpp's `llama-diffusion-cli`, for the side-by-side section (``LlamaCppBench``); nil skips it.
    package var llamaDiffusionCLI: String?

    /// The context of a loaded model.
    package init(model: ModelLoader.Result, threads: Int, quick: Bool) {
        self.model = model
        transformer = model.model.transformer
        vocabulary = model.loaded.tokenizer.vocabularySize
        self.threads = threads
        self.quick = quick
    }

    /// The context of a bare transformer (random weights of a published shape).
    package init(transformer: Transformer, vocabulary: Int, threads: Int, quick: Bool) {
        model = nil
        self.transformer = transformer
        self.vocabulary = vocabulary
        self.threads = threads
        self.quick = quick
    }
}

/// One section of `infill bench`: a name and a measurement producing named numbers.
///
/// New sections (sampler forward passes per algorithm, documents per minute, …) are types
/// conforming to this protocol, listed in `BenchCommand.sections` (the CLI).
package protocol BenchSection {
    /// Key of the section in the JSON output.
    static var name: String { get }
    /// Runs the measurement; the keys become the section's JSON fields.
    static func run(_ context: BenchContext) throws -> [String: Double]
}
