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
    /// The autoregressive model the denoiser was initialised from (the base weights without the
    /// adapter), for parent guidance; nil for a model loaded without an adapter.
    public let parent: (any ParentModel)?

    public init(model: any DenoisingModel, tokenizer: any Tokenizer, name: String, adapter: String?,
                parent: (any ParentModel)? = nil) {
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.adapter = adapter
        self.parent = parent
    }
}
