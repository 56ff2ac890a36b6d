/// The conventions of each supported architecture that are not in its tensor shapes: how its
/// files name things, whether its logits are shifted, which tokens mask and end a text.
///
/// `dream` is Dream-v0 (Qwen2 blocks with q/k/v biases, untied head, logit shift); `llada` is
/// LLaDA-8B (LLaMA blocks under OLMo-style names, no shift). Autoregressive `llama` / `qwen2`
/// checkpoints are driven with Infill's own adapter conventions (shift on).
public enum ModelFamily: String, Sendable, CaseIterable {
    case llama, qwen2, dream, llada

    /// The family for an HF `model_type` (Dream's config says `Dream`).
    public init?(hfModelType: String) {
        switch hfModelType.lowercased() {
        case "llama": self = .llama
        case "qwen2": self = .qwen2
        case "dream": self = .dream
        case "llada": self = .llada
        default: return nil
        }
    }

    /// Whether the model is a masked-diffusion model as published (not one Infill adapts).
    public var isDiffusion: Bool { self == .dream || self == .llada }

    /// Whether position `i`'s token is read from output `i − 1` when the file does not say
    /// (GGUF `diffusion.shift_logits`): Dream shifts, LLaDA does not; Infill's adapters shift.
    public var defaultLogitShift: Bool { self != .llada }

    /// Whether llama.cpp's converter interleaved each q/k head's rows for its pairwise RoPE
    /// (`LLAMA_ROPE_TYPE_NORM`): llama and llada; qwen2 and dream use NeoX RoPE and are left as is.
    public var ggufInterleavesQK: Bool { self == .llama || self == .llada }

    /// The mask id of the published checkpoint (Dream-v0 151666, LLaDA-8B 126336), the last
    /// resort when neither the file nor the tokenizer names one.
    public var publishedMaskTokenID: Int? {
        switch self {
        case .dream: 151_666
        case .llada: 126_336
        default: nil
        }
    }

    /// Names of the mask token in the tokenizer, tried when no id is stored.
    public static let maskTokenNames = ["<|mask|>", "<|mdm_mask|>", "<mask>", "<empty_output>"]

    /// Names of tokens that end a text (end of text, end of turn), reported as end ids when present.
    public static let endTokenNames = ["<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end_of_text|>"]
}
