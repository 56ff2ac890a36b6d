/// A ready-to-use model: the denoiser, its tokenizer and a description for reports and logs.
///
/// Everything in it is immutable and shared read-only by all workers.
public struct LoadedModel: Sendable {
    /// The masked-token predictor the sampler drives.
    public let model: any DenoisingModel
    /// The tokenizer that matches ``model``'s vocabulary.
    public let tokenizer: any Tokenizer
    /// A short name for reports, such as `SmolLM2-135M-Instruct`.
    public let name: String
    /// The diffusion adapter merged into the weights, if any (its folder name).
    public let adapter: String?

    public init(model: any DenoisingModel, tokenizer: any Tokenizer, name: String, adapter: String?) {
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.adapter = adapter
    }
}
