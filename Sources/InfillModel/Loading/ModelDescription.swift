/// What was loaded, for `infill model info`, reports and logs.
public struct ModelDescription: Sendable {
    /// Short name, such as `SmolLM2-135M-Instruct`.
    public var name: String
    /// The GGUF file or HF folder the weights came from.
    public var source: String
    /// `GGUF v3` or `HF safetensors (N shards)`.
    public var format: String
    public var config: TransformerConfig
    /// Stored tensor types with their counts, e.g. `["Q4_1": 210, "Q8_0": 1, "F32": 61]`.
    public var storageTypes: [String: Int]
    /// A one-line summary of the tokenizer.
    public var tokenizer: String
    /// The adapter folder merged in, if any.
    public var adapterFolder: String?
    /// The adapter's manifest, if any.
    public var adapter: AdapterManifest?
    /// LoRA pairs merged.
    public var mergedPairs: Int
    public var attention: AttentionMode
    public var logitShift: Bool
    public var maskTokenID: TokenID
    public var nullTokenID: TokenID
    /// Tokens that end a text (end of text, end of turn), from the model's files and tokenizer.
    public var endTokenIDs: [TokenID]
    /// How the weight matrices are held (fp32, or stored and dequantised per tile).
    public var weightStorage: WeightStorage
    /// Bytes the engine's weights occupy (mapped bytes for stored matrices).
    public var weightBytes: Int
    /// Seconds spent reading, dequantising and merging.
    public var loadSeconds: Double
    /// The chat template the files carry, and whether the engine renders it.
    public var chatTemplate: ChatTemplate.Recognition = .absent
    /// Where the model's canvases put instructions by default (``LoadedModel/instructionLayout``).
    public var instructionLayout: InstructionLayout = .inline
}
