import ArgumentParser
import InfillModel
import Synchronization

/// `--model` and `--threads`, shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(help: "The model: 'default' (base model + shipped diffusion adapter), a GGUF file or an HF model folder.")
    var model: String = "default"

    @Option(help: "BLAS threads (default: all cores).")
    var threads: Int?

    /// Loads the model named by `--model`.
    func load() throws -> LoadedModel {
        try loadDetailed().loaded
    }

    /// Loads the model with its concrete transformer and description (for `model info|forward`, `bench`).
    ///
    /// Sets the BLAS thread count first; a missing adapter is reported once on stderr.
    /// - Parameter mergeAdapter: for `default`, whether to merge the diffusion adapter.
    func loadDetailed(mergeAdapter: Bool = true) throws -> ModelLoader.Result {
        try Self.load(model, threads: threads, mergeAdapter: mergeAdapter)
    }

    /// Loads the model `spec` names ('default', a GGUF file, an HF folder) on `threads` BLAS
    /// threads (nil: all cores): what every command that loads a model ends in, `serve` included
    /// (with `model:` and `threads_per_worker:` from its configuration).
    static func load(_ spec: String, threads: Int?, mergeAdapter: Bool = true) throws -> ModelLoader.Result {
        if let threads, threads < 1 { throw CLIError.usage("--threads must be at least 1") }
        BLASThreads.set(threads)
        do {
            return try ModelLoader.load(spec, mergeAdapter: mergeAdapter, warn: Self.warnOnce)
        } catch let error as ModelFileError {
            throw CLIError.usage(error.description)
        }
    }

    private static let warned = Mutex(false)

    /// Prints `infill: warning: …` the first time only.
    static func warnOnce(_ message: String) {
        let first = warned.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        var stderr = StandardError()
        print("infill: warning: \(message)", to: &stderr)
    }
}
