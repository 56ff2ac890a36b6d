import ArgumentParser
import InfillModel

/// `--model` and `--threads`, shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(help: "The model: 'default' (base model + shipped diffusion adapter), a GGUF file or an HF model folder.")
    var model: String = "default"

    @Option(help: "BLAS threads (default: all cores).")
    var threads: Int?

    /// Loads the model named by `--model`.
    func load() throws -> LoadedModel {
        throw CLIError.usage("model loading is not available yet")
    }
}
