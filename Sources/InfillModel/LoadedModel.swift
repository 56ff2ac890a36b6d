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
    /// The model's chat template, if its files carry one the engine renders (and its tokenizer
    /// has the template's special tokens).
    public let chatTemplate: ChatTemplate?
    /// Where this model's canvases put a field's instruction unless a pipeline says otherwise:
    /// ``InstructionLayout/chat`` for a model with a chat template (unless its adapter's manifest
    /// asks for ``InstructionLayout/inline``), ``InstructionLayout/inline`` without one
    /// (``ModelLoader`` decides).
    public let instructionLayout: InstructionLayout

    public init(model: any DenoisingModel, tokenizer: any Tokenizer, name: String, adapter: String?,
                parent: (any ParentModel)? = nil, chatTemplate: ChatTemplate? = nil,
                instructionLayout: InstructionLayout = .inline) {
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.adapter = adapter
        self.parent = parent
        self.chatTemplate = chatTemplate
        self.instructionLayout = chatTemplate == nil ? .inline : instructionLayout
    }

    /// The layout a canvas uses when `requested` (a pipeline's `instructions:`, nil for the
    /// model's own) asks for one: ``InstructionLayout/chat`` only with a chat template.
    public func instructionLayout(_ requested: InstructionLayout?) -> InstructionLayout {
        chatTemplate == nil ? .inline : requested ?? instructionLayout
    }
}
